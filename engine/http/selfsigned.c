/*
 * pa_http_make_self_signed: a self-signed X.509 v3 certificate and its ECDSA
 * P-256 key, made in-process with GnuTLS, for the demo and the tests (RFC 5280
 * §4.2.1.6 subjectAltName with 127.0.0.1, ::1 and localhost, so clients verify
 * the host on loopback).  Randomness for the key and serial comes from GnuTLS's
 * and libsodium's CSPRNGs.  The key file is written 0600 with O_EXCL.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ct.h"
#include "privagg/common.h"
#include "privagg/http.h"

static int write_new(const char *zPath, const gnutls_datum_t *d, int mode)
{
    int fd = open(zPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return pa_fail(errno == EEXIST ? PA_EEXISTS : PA_EIO, "%s: %s", zPath, strerror(errno));
    size_t n = 0;
    while (n < d->size) {
        ssize_t k = write(fd, d->data + n, d->size - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = errno;
            close(fd);
            unlink(zPath);
            return pa_fail(PA_EIO, "%s: write: %s", zPath, strerror(e));
        }
        n += (size_t)k;
    }
    if (close(fd) != 0) {
        unlink(zPath);
        return pa_fail(PA_EIO, "%s: close: %s", zPath, strerror(errno));
    }
    return PA_OK;
}

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int e_ = (call);                                                                           \
        if (e_ < 0) {                                                                              \
            rc = pa_fail(PA_EINTERNAL, "self-signed certificate: %s: %s", #call,                   \
                         gnutls_strerror(e_));                                                     \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

int pa_http_make_self_signed(const char *cert_path, const char *key_path,
                             const char *common_name)
{
    static const uint8_t aIp4[4] = {127, 0, 0, 1};
    static const uint8_t aIp6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t dKey = {NULL, 0}, dCrt = {NULL, 0};
    uint8_t aSerial[16], aKeyId[64];
    size_t nKeyId = sizeof aKeyId;
    int rc = PA_OK;

    const char *zCn = common_name ? common_name : "localhost";
    if (strlen(zCn) == 0 || strlen(zCn) > 64)
        return pa_fail(PA_EINVAL, "common name: length %zu, expected 1..64", strlen(zCn));
    if (access(cert_path, F_OK) == 0 || access(key_path, F_OK) == 0)
        return pa_fail(PA_EEXISTS, "self-signed certificate: %s or %s already exists",
                       cert_path, key_path);

    TRY(gnutls_x509_privkey_init(&key));
    TRY(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
    TRY(gnutls_x509_crt_init(&crt));
    TRY(gnutls_x509_crt_set_version(crt, 3));
    randombytes_buf(aSerial, sizeof aSerial);
    aSerial[0] &= 0x7f; /* positive INTEGER (RFC 5280 §4.1.2.2) */
    aSerial[0] |= 0x01;
    TRY(gnutls_x509_crt_set_serial(crt, aSerial, sizeof aSerial));
    time_t now = time(NULL);
    TRY(gnutls_x509_crt_set_activation_time(crt, now - 3600));
    TRY(gnutls_x509_crt_set_expiration_time(crt, now + 365 * 24 * 3600));
    TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, zCn, strlen(zCn)));
    TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "privagg", 7));
    TRY(gnutls_x509_crt_set_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, zCn,
                                             strlen(zCn)));
    TRY(gnutls_x509_crt_set_issuer_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
                                             "privagg", 7));
    TRY(gnutls_x509_crt_set_key(crt, key));
    TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, aIp4, sizeof aIp4,
                                             GNUTLS_FSAN_APPEND));
    TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, aIp6, sizeof aIp6,
                                             GNUTLS_FSAN_APPEND));
    TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                             GNUTLS_FSAN_APPEND));
    if (strcmp(zCn, "localhost") != 0)
        TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, zCn,
                                                 (unsigned)strlen(zCn), GNUTLS_FSAN_APPEND));
    TRY(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
    TRY(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE));
    TRY(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0));
    TRY(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, aKeyId, &nKeyId));
    TRY(gnutls_x509_crt_set_subject_key_id(crt, aKeyId, nKeyId));
    TRY(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0));
    TRY(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &dKey));
    TRY(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &dCrt));

    if ((rc = write_new(key_path, &dKey, 0600)) == PA_OK &&
        (rc = write_new(cert_path, &dCrt, 0644)) != PA_OK)
        unlink(key_path);
done:
    if (dKey.data) {
        pa_wipe(dKey.data, dKey.size);
        gnutls_free(dKey.data);
    }
    if (dCrt.data)
        gnutls_free(dCrt.data);
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    return rc;
}
