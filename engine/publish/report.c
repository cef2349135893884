/*
 * report.html: one self-contained page (no script, no font, no request at view
 * time; inline CSS and SVG), readable on a phone (fluid width, tables scroll
 * sideways) and printable (print CSS).  Sections: a plain-language summary
 * (what was counted, the privacy unit, the guarantee in rho and in epsilon, who
 * would have to collude, agencies and coverage), a chart of rates by offense
 * bucket split by status with error bars, month-over-month lines, a county map
 * shaded by rate, the statewide table of the latest period (every cell and
 * margin) and the partitions of that period.  Element classes the browser test
 * counts: tr.cell / tr.margin / tr.total in #state-table, g.bar-group in
 * #chart-offense, path.county in #map.
 */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/dp.h"
#include "publish/internal.h"

static void esc(FILE *f, const char *z)
{
    for (; *z; z++) {
        switch (*z) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*z, f);
        }
    }
}

static const char *k_css =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:60rem;"
    "padding:0 1rem 3rem;color:#1a1a1a;line-height:1.45}"
    "h1{font-size:1.5rem;margin-top:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}"
    ".summary{background:#f4f6f8;padding:.5rem 1rem;border-radius:6px}"
    ".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}"
    "table{border-collapse:collapse;font-size:.85rem;min-width:100%}"
    "th,td{border-bottom:1px solid #e0e0e0;padding:.2rem .4rem;text-align:right;white-space:nowrap}"
    "th{background:#eef1f4;position:sticky;top:0}td.t,th.t{text-align:left;white-space:normal}"
    "tr.margin td{background:#fafafa;font-weight:600}tr.total td{background:#eef1f4;font-weight:700}"
    ".low{color:#a33;font-size:.75rem}.note{color:#555;font-size:.85rem}"
    "svg{max-width:100%;height:auto;display:block}svg text{font-size:11px;fill:#333}"
    ".legend span{display:inline-block;width:1rem;height:.8rem;margin:0 .2rem 0 .8rem;vertical-align:middle}"
    "@media print{body{max-width:none;font-size:10pt}.scroll{overflow:visible}th{position:static}"
    "h2{break-after:avoid}tr{break-inside:avoid}svg{break-inside:avoid}}";

static const char *const k_colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                       "#76b7b2", "#edc948", "#9c755f", "#bab0ac", "#ff9da7"};
static const char *const k_blues[] = {"#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"};

/* the latest period that has a statewide release (else the latest) */
static const pa_pub_table *latest_state(const pa_pub *p)
{
    for (size_t k = p->nPeriod; k-- > 0;) {
        const pa_pub_table *tb = pa_pub_find(p, p->azPeriod[k], "state");
        if (tb)
            return tb;
    }
    return &p->aTable[p->nTable - 1];
}

static void fmt_rate(FILE *f, double r)
{
    fprintf(f, r >= 100 ? "%.0f" : r >= 10 ? "%.1f" : "%.2f", r);
}

static void summary(const pa_pub *p, FILE *f, const pa_pub_table *tb)
{
    const pa_task *t = p->pTask;
    double rMax = 0, eps = 0;
    size_t nState = 0, nPart = 0;
    /* worst lattice cell from the releases: S[p] + max P[p][x] */
    for (size_t k = 0; k < p->nPeriod; k++) {
        double s = 0, m = 0;
        for (size_t i = 0; i < p->nTable; i++) {
            const pa_pub_table *x = &p->aTable[i];
            if (strcmp(x->pRel->zPeriod, p->azPeriod[k]) != 0)
                continue;
            if (x->bState) {
                s += t->aPerRelease[0];
                nState++;
            } else {
                m = t->aPerRelease[1] > m ? t->aPerRelease[1] : m;
                nPart++;
            }
        }
        rMax = s + m > rMax ? s + m : rMax;
    }
    if (t->eMechanism != PA_TASK_DP_NONE && rMax > 0)
        pa_dp_zcdp_eps(rMax, 1e-6, &eps, NULL);
    fputs("<div class=\"summary\" id=\"summary\"><p><b>What was counted.</b> ", f);
    esc(f, t->zName);
    fprintf(f, ": each incident record reported by Missouri law-enforcement agencies adds to the cells of ");
    for (size_t d = 0; d < t->nDimension; d++) {
        fprintf(f, "%s%s (%zu categories)", d == 0 ? "" : d + 1 == t->nDimension ? " and " : ", ",
                t->aDimension[d].zName, t->aDimension[d].nCategory);
    }
    fprintf(f, ". %zu months (%s to %s), %zu statewide and %zu partition releases.</p>\n", p->nPeriod,
            p->azPeriod[0], p->azPeriod[p->nPeriod - 1], nState, nPart);
    if (t->eMechanism == PA_TASK_DP_NONE) {
        fputs("<p><b>No privacy protection.</b> The task's mechanism is <code>none</code>: these are exact "
              "totals, for tests only.</p>\n", f);
    } else {
        fprintf(f, "<p><b>The privacy guarantee.</b> The privacy unit is one incident record. Whatever is "
                   "published here, one record changes the distribution of everything released by at most "
                   "&rho; = %.4g (zero-concentrated differential privacy), which is (&epsilon; = %.2f, "
                   "&delta; = 10<sup>-6</sup>)-differential privacy. The task allows &rho; = %.4g per record "
                   "(per month and partition).</p>\n",
                rMax, eps, t->rBudgetPerRecord);
        fputs("<p><b>Who would have to collude to break it.</b> Agencies' counts are split into secret shares "
              "between two independent aggregators (the state statistical office and a helper); each adds its "
              "own random noise before anything is released. Learning one agency's counts needs both "
              "aggregators together; the noise of either honest aggregator alone gives the guarantee above, "
              "even against the collector working with the other aggregator.</p>\n", f);
    }
    fprintf(f, "<p><b>Agencies and coverage.</b> The %s lists %zu agencies; in %s, %llu reported",
            t->bRegistry ? "agency registry" : "task", t->bRegistry ? tb->nListed : t->nAgency,
            tb->pRel->zPeriod, (unsigned long long)tb->pRel->nAgency);
    if (tb->rServedLo >= 0 && tb->rServedHi > tb->rServedLo)
        fprintf(f, ", serving between %.1f %% and %.1f %% of Missouri's %.0f residents (%d estimate; by county: "
                   "a county counts fully where all its listed agencies reported, partly where some did)",
                100 * tb->rServedLo, 100 * tb->rServedHi, p->rStatePop, p->iStatePopYear);
    else if (tb->rServedLo >= 0 && tb->rServedHi >= 0)
        fprintf(f, ", serving %.1f %% of Missouri's %.0f residents (%d estimate)", 100 * tb->rServedLo,
                p->rStatePop, p->iStatePopYear);
    else if (tb->rServedLo >= 0)
        fprintf(f, ", serving at least %.1f %% of Missouri's %.0f residents (%d estimate)", 100 * tb->rServedLo,
                p->rStatePop, p->iStatePopYear);
    fputs(". Rates divide by the residents of the partition's counties (statewide: every county of a "
          "partition) for the period's year, or the latest year published.</p>\n", f);
    fputs("<p><b>What was done to the released numbers</b> (post-processing, which costs no privacy): where the "
          "statewide table and every partition of a month were released, they were estimated together by "
          "weighted least squares with the exact noise variances, so that partitions add up to the state; each "
          "number was then rounded and negative values set to 0. Intervals are 90 %: <i>exact</i> (from the exact "
          "distribution of each number's noise, combined across levels or not), or <i>conservative</i> (at "
          "least 90 %) where the noise is too long to compute exactly. A number whose "
          "interval is wider than itself is marked <span class=\"low\">low reliability</span>. Rates by "
          "immigration status are not given: how many residents have each status is not known, so the tables "
          "give each status's share of the people counted instead.</p>\n", f);
    if (t->nStructuralZero > 0)
        fprintf(f, "<p><b>Cells that cannot occur</b> (%zu of %zu, e.g. victims of offenses that have none in "
                   "NIBRS: crimes against society, Group B) are left out of every table, margin, total and "
                   "chart.</p>\n",
                t->nStructuralZero, t->nCell);
    fputs("</div>\n", f);
}

/* rates by offense bucket (all roles), one bar per status, with error bars */
static int chart_offense(const pa_pub *p, FILE *f, const pa_pub_table *tb)
{
    const pa_task *t = p->pTask;
    int iOff = -1, iSt = p->iStatusDim;
    for (size_t d = 0; d < t->nDimension; d++)
        if (strcmp(t->aDimension[d].zName, "offense") == 0)
            iOff = (int)d;
    if (iOff < 0)
        iOff = 0;
    size_t nOff = t->aDimension[iOff].nCategory, nSt = iSt >= 0 ? t->aDimension[iSt].nCategory : 1;
    double *aV = calloc(nOff * nSt * 3, sizeof *aV), vMax = 0;
    if (aV == NULL)
        return pa_fail(PA_ENOMEM, "report");
    for (size_t o = 0; o < nOff; o++)
        for (size_t s = 0; s < nSt; s++) {
            int aCat[PA_TASK_MAX_DIMENSIONS];
            double est, half;
            int bx;
            int64_t pub, lo, hi;
            for (size_t d = 0; d < PA_TASK_MAX_DIMENSIONS; d++)
                aCat[d] = PA_PUB_ALL;
            aCat[iOff] = (int)o;
            if (iSt >= 0)
                aCat[iSt] = (int)s;
            int rc = pa_pub_set_estimate(p, tb, aCat, 0, PA_PUB_LEVEL, &est, &half, &bx, NULL, NULL);
            if (rc != PA_OK) {
                free(aV);
                return rc;
            }
            pa_pub_interval(est, half, &pub, &lo, &hi);
            double k = tb->rPop > 0 ? 1e5 / tb->rPop : 1;
            aV[(o * nSt + s) * 3] = pub * k;
            aV[(o * nSt + s) * 3 + 1] = lo * k;
            aV[(o * nSt + s) * 3 + 2] = hi * k;
            vMax = hi * k > vMax ? hi * k : vMax;
        }
    if (!(vMax > 0))
        vMax = 1;
    double rowH = 6.0 * nSt + 8, left = 190, width = 560, h = rowH * nOff + 40;
    fprintf(f, "<h2>Rates by offense, %s, statewide</h2>\n<p class=\"note\">Persons counted per 100,000 "
               "residents in the month (all roles), one bar per immigration status, with 90 %% intervals. A "
               "bar is the part of the offense's rate from persons of that status, not a rate among residents "
               "of that status (unknown).</p>\n",
            tb->pRel->zPeriod);
    fprintf(f, "<svg id=\"chart-offense\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"rates by offense "
               "and status\">\n", left + width + 20, h);
    for (size_t o = 0; o < nOff; o++) {
        double y0 = 10 + o * rowH;
        fprintf(f, "<g class=\"bar-group\" data-offense=\"");
        esc(f, t->aDimension[iOff].azCategory[o]);
        fprintf(f, "\"><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", left - 6, y0 + rowH / 2 + 2);
        esc(f, t->aDimension[iOff].azCategory[o]);
        fputs("</text>", f);
        for (size_t s = 0; s < nSt; s++) {
            double *v = &aV[(o * nSt + s) * 3], y = y0 + 2 + 6.0 * s;
            fprintf(f, "<rect class=\"bar\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"5\" fill=\"%s\"/>"
                       "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" stroke-width=\"0.8\"/>",
                    left, y, width * v[0] / vMax, k_colors[s % 10], left + width * v[1] / vMax,
                    left + width * v[2] / vMax, y + 2.5, y + 2.5);
        }
        fputs("</g>\n", f);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">0</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">", left,
            h - 12, left + width, h - 12);
    fmt_rate(f, vMax);
    fputs(" per 100,000</text></svg>\n<p class=\"legend\">", f);
    for (size_t s = 0; iSt >= 0 && s < nSt; s++) {
        fprintf(f, "<span style=\"background:%s\"></span>", k_colors[s % 10]);
        esc(f, t->aDimension[iSt].azCategory[s]);
    }
    fputs("</p>\n", f);
    free(aV);
    return PA_OK;
}

/* month-over-month: statewide rate per role (margins), with 90 % intervals */
static void chart_months(const pa_pub *p, FILE *f)
{
    const pa_task *t = p->pTask;
    int iRole = -1;
    for (size_t d = 0; d < t->nDimension; d++)
        if (strcmp(t->aDimension[d].zName, "role") == 0)
            iRole = (int)d;
    size_t nLine = iRole >= 0 ? t->aDimension[iRole].nCategory : 1;
    double vMax = 0, left = 50, width = 600, height = 220;
    for (size_t k = 0; k < p->nPeriod; k++) {
        const pa_pub_table *tb = pa_pub_find(p, p->azPeriod[k], "state");
        for (size_t r = 0; tb && r < tb->nRow; r++) {
            const pa_pub_row *w = &tb->aRow[r];
            if ((iRole >= 0 && w->eKind == PA_PUB_MARGIN && w->aCat[iRole] != PA_PUB_ALL) ||
                (iRole < 0 && w->eKind == PA_PUB_TOTAL))
                vMax = w->bRate && w->rRateHi > vMax ? w->rRateHi : vMax;
        }
    }
    if (!(vMax > 0))
        vMax = 1;
    fputs("<h2>Month over month, statewide</h2>\n<p class=\"note\">Persons counted per 100,000 residents per "
          "month, by role, with 90 % intervals.</p>\n", f);
    fprintf(f, "<svg id=\"chart-months\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"monthly rates\">\n",
            left + width + 20, height + 40);
    fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>", left, left + width,
            height + 10, height + 10);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">", left - 4, 14.0);
    fmt_rate(f, vMax);
    fprintf(f, "</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>\n", left - 4, height + 10);
    for (size_t l = 0; l < nLine; l++) {
        fprintf(f, "<g class=\"line\" data-role=\"");
        esc(f, iRole >= 0 ? t->aDimension[iRole].azCategory[l] : "all");
        fprintf(f, "\"><polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", k_colors[l % 10]);
        for (size_t k = 0; k < p->nPeriod; k++) {
            const pa_pub_table *tb = pa_pub_find(p, p->azPeriod[k], "state");
            double x = left + (p->nPeriod > 1 ? width * k / (p->nPeriod - 1) : width / 2);
            for (size_t r = 0; tb && r < tb->nRow; r++) {
                const pa_pub_row *w = &tb->aRow[r];
                if (((iRole >= 0 && w->eKind == PA_PUB_MARGIN && w->aCat[iRole] == (int)l) ||
                     (iRole < 0 && w->eKind == PA_PUB_TOTAL)) && w->bRate)
                    fprintf(f, "%.1f,%.1f ", x, height + 10 - height * w->rRate / vMax);
            }
        }
        fputs("\"/>", f);
        for (size_t k = 0; k < p->nPeriod; k++) {
            const pa_pub_table *tb = pa_pub_find(p, p->azPeriod[k], "state");
            double x = left + (p->nPeriod > 1 ? width * k / (p->nPeriod - 1) : width / 2);
            for (size_t r = 0; tb && r < tb->nRow; r++) {
                const pa_pub_row *w = &tb->aRow[r];
                if (((iRole >= 0 && w->eKind == PA_PUB_MARGIN && w->aCat[iRole] == (int)l) ||
                     (iRole < 0 && w->eKind == PA_PUB_TOTAL)) && w->bRate)
                    fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>", x, x,
                            height + 10 - height * w->rRateLo / vMax, height + 10 - height * w->rRateHi / vMax,
                            k_colors[l % 10]);
            }
        }
        fputs("</g>\n", f);
    }
    for (size_t k = 0; k < p->nPeriod; k++) {
        double x = left + (p->nPeriod > 1 ? width * k / (p->nPeriod - 1) : width / 2);
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>", x, height + 26,
                p->azPeriod[k] + 2);
    }
    fputs("</svg>\n<p class=\"legend\">", f);
    for (size_t l = 0; iRole >= 0 && l < nLine; l++) {
        fprintf(f, "<span style=\"background:%s\"></span>", k_colors[l % 10]);
        esc(f, t->aDimension[iRole].azCategory[l]);
    }
    fputs("</p>\n", f);
}

static const pa_pub_row *total_row(const pa_pub_table *tb)
{
    return &tb->aRow[tb->nRow - 1];
}

/* county map of the latest period: each county shaded by its partition's rate */
static int map(const pa_pub *p, FILE *f, const char *zPeriod)
{
    const pa_task *t = p->pTask;
    double aBreak[4] = {0}, *aRate = calloc(t->nPartition + 1, sizeof *aRate);
    size_t nRate = 0;
    if (aRate == NULL) /* the report without its map would look complete */
        return pa_fail(PA_ENOMEM, "report: map");
    for (size_t x = 0; x < t->nPartition; x++) {
        const pa_pub_table *tb = pa_pub_find(p, zPeriod, t->aPartition[x].zName);
        if (tb && total_row(tb)->bRate)
            aRate[nRate++] = total_row(tb)->rRate;
    }
    /* quintile breaks of the partitions' rates */
    for (size_t i = 1; i < nRate; i++)
        for (size_t j = i; j > 0 && aRate[j - 1] > aRate[j]; j--) {
            double v = aRate[j];
            aRate[j] = aRate[j - 1];
            aRate[j - 1] = v;
        }
    for (size_t q = 0; q < 4 && nRate > 0; q++)
        aBreak[q] = aRate[(q + 1) * nRate / 5 < nRate ? (q + 1) * nRate / 5 : nRate - 1];
    fprintf(f, "<h2>Map, %s</h2>\n<p class=\"note\">Persons counted per 100,000 residents in the month, all "
               "offenses, by partition (a county, or a region of neighbouring small counties); grey: no "
               "partition released. County shapes: US Census Bureau cartographic boundaries (us-atlas).</p>\n",
            zPeriod);
    fprintf(f, "<svg id=\"map\" viewBox=\"0 0 1000 %.0f\" role=\"img\" aria-label=\"county map\">\n", p->rMapHeight);
    for (size_t c = 0; c < p->nCounty; c++) {
        const char *zFill = "#d9d9d9", *zPart = "";
        double rate = -1;
        for (size_t x = 0; x < t->nPartition && zPart[0] == '\0'; x++)
            for (size_t k = 0; k < t->aPartition[x].nCounty; k++)
                if (strcmp(t->aPartition[x].azCounty[k], p->azFips[c]) == 0) {
                    const pa_pub_table *tb = pa_pub_find(p, zPeriod, t->aPartition[x].zName);
                    zPart = t->aPartition[x].zName;
                    if (tb && total_row(tb)->bRate) {
                        int q = 0;
                        rate = total_row(tb)->rRate;
                        while (q < 4 && rate > aBreak[q])
                            q++;
                        zFill = k_blues[q];
                    }
                }
        fprintf(f, "<path class=\"county\" data-fips=\"%s\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.7\" d=\"%s\">"
                   "<title>", p->azFips[c], zFill, p->azPath[c]);
        esc(f, p->azCountyName[c]);
        if (zPart[0]) {
            fprintf(f, " (partition %s)", zPart);
            if (rate >= 0)
                fprintf(f, ": %.1f per 100,000", rate);
        }
        fputs("</title></path>\n", f);
    }
    fputs("</svg>\n<p class=\"legend\">", f);
    for (int q = 0; q < 5 && nRate > 0; q++) {
        fprintf(f, "<span style=\"background:%s\"></span>", k_blues[q]);
        if (q < 4)
            fprintf(f, "&le; %.1f", aBreak[q]);
        else
            fprintf(f, "&gt; %.1f", aBreak[3]);
    }
    fputs("<span style=\"background:#d9d9d9\"></span>none</p>\n", f);
    free(aRate);
    return PA_OK;
}

static void state_table(const pa_pub *p, FILE *f, const pa_pub_table *tb)
{
    const pa_task *t = p->pTask;
    fprintf(f, "<h2>Statewide table, %s</h2>\n<p class=\"note\">Every cell, then the margins and the total. "
               "Published value, 90 %% interval (exact or conservative), rate per 100,000 residents per month "
               "and annualised (&times;12), share of all persons counted (status margins). %s</p>\n",
            tb->pRel->zPeriod,
            tb->bReconciled ? "Estimated together with the partitions of the month." : "Not combined with partitions.");
    fputs("<div class=\"scroll\"><table id=\"state-table\"><thead><tr>", f);
    for (size_t d = 0; d < t->nDimension; d++) {
        fputs("<th class=\"t\">", f);
        esc(f, t->aDimension[d].zName);
        fputs("</th>", f);
    }
    fputs("<th>count</th><th>90 % interval</th><th>rate / month</th><th>rate / year</th><th>share</th><th "
          "class=\"t\">note</th></tr></thead><tbody>\n", f);
    for (size_t k = 0; k < tb->nRow; k++) {
        const pa_pub_row *r = &tb->aRow[k];
        fprintf(f, "<tr class=\"%s\">", r->eKind == PA_PUB_CELL ? "cell" : r->eKind == PA_PUB_MARGIN ? "margin" : "total");
        for (size_t d = 0; d < t->nDimension; d++) {
            fputs("<td class=\"t\">", f);
            esc(f, pa_pub_cat(p, d, r->aCat[d]));
            fputs("</td>", f);
        }
        fprintf(f, "<td>%lld</td><td>%lld&ndash;%lld%s</td>", (long long)r->nPub, (long long)r->nLo,
                (long long)r->nHi, r->bExact ? "" : "*");
        if (r->bRate) {
            fputs("<td>", f);
            fmt_rate(f, r->rRate);
            fputs("</td><td>", f);
            fmt_rate(f, 12 * r->rRate);
            fputs("</td>", f);
        } else {
            fputs("<td>&ndash;</td><td>&ndash;</td>", f);
        }
        if (r->bShare)
            fprintf(f, "<td>%.1f %% (%.1f&ndash;%.1f)</td>", 100 * r->rShare, 100 * r->rShareLo, 100 * r->rShareHi);
        else
            fputs("<td></td>", f);
        fprintf(f, "<td class=\"t\">%s</td></tr>\n", r->bLow ? "<span class=\"low\">low reliability</span>" : "");
    }
    fputs("</tbody></table></div>\n<p class=\"note\">* conservative interval (holds the true count at least 90 % "
          "of the time); others exact. &ndash;: no rate, the number of residents with that status is not known "
          "(see the share).</p>\n", f);
}

static void partition_table(const pa_pub *p, FILE *f, const char *zPeriod)
{
    const pa_task *t = p->pTask;
    fprintf(f, "<h2>Partitions, %s</h2>\n<div class=\"scroll\"><table id=\"partition-table\"><thead><tr><th "
               "class=\"t\">partition</th><th class=\"t\">counties</th><th>agencies reported / listed</th><th>"
               "residents</th><th>residents served</th><th>count (all)</th><th>90 %% interval</th><th>rate "
               "/ month</th><th class=\"t\">note</th></tr></thead><tbody>\n",
            zPeriod);
    for (size_t x = 0; x < t->nPartition; x++) {
        const pa_pub_table *tb = pa_pub_find(p, zPeriod, t->aPartition[x].zName);
        if (tb == NULL)
            continue;
        const pa_pub_row *r = total_row(tb);
        fputs("<tr class=\"partition\"><td class=\"t\">", f);
        esc(f, t->aPartition[x].zName);
        fputs("</td><td class=\"t\">", f);
        for (size_t k = 0; k < t->aPartition[x].nCounty; k++) {
            for (size_t c = 0; c < p->nCounty; c++)
                if (strcmp(p->azFips[c], t->aPartition[x].azCounty[k]) == 0) {
                    fputs(k ? ", " : "", f);
                    esc(f, p->azCountyName[c]);
                }
        }
        if (t->aPartition[x].nCounty == 0)
            fputs("statewide agencies", f);
        fprintf(f, "</td><td>%llu / %zu</td><td>%.0f</td><td>", (unsigned long long)tb->pRel->nAgency, tb->nListed,
                tb->rPop);
        if (tb->rServedLo >= 0 && tb->rServedHi > tb->rServedLo)
            fprintf(f, "%.1f&ndash;%.1f %%", 100 * tb->rServedLo, 100 * tb->rServedHi);
        else if (tb->rServedLo >= 0 && tb->rServedHi >= 0)
            fprintf(f, "%.1f %%", 100 * tb->rServedLo);
        else
            fputs("unknown", f);
        fprintf(f, "</td><td>%lld</td><td>%lld&ndash;%lld%s</td><td>", (long long)r->nPub, (long long)r->nLo,
                (long long)r->nHi, r->bExact ? "" : "*");
        if (r->bRate)
            fmt_rate(f, r->rRate);
        else
            fputs("&ndash;", f);
        fprintf(f, "</td><td class=\"t\">%s</td></tr>\n", r->bLow ? "<span class=\"low\">low reliability</span>" : "");
    }
    fputs("</tbody></table></div>\n<p class=\"note\">Agencies reported: how many sent a report for the month "
          "(which agencies reported is not secret; their counts are). Residents served: the share of the "
          "partition's residents living where the agencies that reported police them, by county: a county counts "
          "towards the lower figure when all its listed agencies reported and towards the upper one when any "
          "did; one figure when every listed agency reported.</p>\n", f);
}

int pa_pub_write_report(const pa_pub *p, FILE *f)
{
    const pa_pub_table *tb = latest_state(p);
    char zTask[65];
    sodium_bin2hex(zTask, sizeof zTask, p->pTask->aTaskId, 32);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
          "<title>", f);
    esc(f, p->pTask->zName);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>", k_css);
    esc(f, p->pTask->zName);
    fprintf(f, "</h1>\n<p class=\"note\">Differentially private statistics, %s to %s. Task %.16s&hellip;; full "
               "tables for every month and partition in table.csv and table.json; what was released and its "
               "privacy cost in manifest.json (signed by the collector).</p>\n",
            p->azPeriod[0], p->azPeriod[p->nPeriod - 1], zTask);
    summary(p, f, tb);
    PA_GUARD(chart_offense(p, f, tb));
    chart_months(p, f);
    PA_GUARD(map(p, f, tb->pRel->zPeriod));
    state_table(p, f, tb);
    partition_table(p, f, tb->pRel->zPeriod);
    fputs("<p class=\"note\">Sources: counts from the agencies' reports through privagg (Prio3 secret sharing, "
          "discrete Gaussian noise); residents: US Census Bureau, Population Estimates Program, Vintage 2024; "
          "county shapes: US Census Bureau cartographic boundary file 1:10,000,000 via us-atlas 3.0.1.</p>\n"
          "</body></html>\n", f);
    return ferror(f) ? pa_fail(PA_EIO, "report: write failed") : PA_OK;
}
