/* evaluate_render.c — the canonical text and JSON of an evaluation (evaluate.h): the
 * decision with every reason, each period's figures, the arithmetic of the saving and the
 * subsidy, and the provenance of every number (meters, sequence ranges, ledger indexes,
 * checkpoints). Nothing here depends on where the readings came from, so the same input
 * renders to the same bytes online and offline. */
#include "savings/evaluate.h"

#include <stdio.h>
#include <string.h>

#include "savings/jsondoc.h"
#include "crypto/encoding.h"

static const char *m3(char out[48], int64_t litres) { return wn_fixed_format(out, litres, 3); }

static const char *dur(char out[48], uint64_t ms)
{
    if (ms && ms % 86400000u == 0)
        snprintf(out, 48, "%llu day%s", (unsigned long long)(ms / 86400000u), ms == 86400000u ? "" : "s");
    else if (ms && ms % 3600000u == 0)
        snprintf(out, 48, "%llu hour%s", (unsigned long long)(ms / 3600000u), ms == 3600000u ? "" : "s");
    else snprintf(out, 48, "%llu ms", (unsigned long long)ms);
    return out;
}

static const char *tm(char out[25], uint64_t ms)
{
    wn_time_format(out, ms);
    return out;
}

static const char *hex(char out[65], const uint8_t *b, size_t n)
{
    wn_hex_encode(out, b, n);
    return out;
}

/* ---- text ---- */

static void text_boundary(wn_sb *b, const char *what, uint64_t at, const wn_eval_boundary *x)
{
    char t0[25], t1[25], t2[25];
    if (x->exact)
        wn_sb_printf(b, "      %s %s: the totaliser of seq %llu, read at that time\n", what, tm(t0, at),
                     (unsigned long long)x->seq_a);
    else
        wn_sb_printf(b, "      %s %s: interpolated between seq %llu (%s) and seq %llu (%s)\n", what, tm(t0, at),
                     (unsigned long long)x->seq_a, tm(t1, x->time_a), (unsigned long long)x->seq_b, tm(t2, x->time_b));
}

static void text_period(wn_sb *b, const char *name, const wn_eval_period *p, const wn_claim *c, int nonconv_in)
{
    char t1[25], t2[25], d[48], a[48], v[48];
    wn_sb_printf(b, "%s %s .. %s (%s)\n", name, tm(t1, p->from_ms), tm(t2, p->to_ms), dur(d, p->to_ms - p->from_ms));
    wn_sb_printf(b, "  output                   %s %s\n", wn_fixed_format(a, p->output, 3), c->output_unit);
    wn_sb_printf(b, "  fresh-water intake       %s m3 (surface, groundwater, tap)\n", m3(v, p->fresh_l));
    wn_sb_printf(b, "  non-conventional intake  %s m3 (reclaimed, rainwater, mine water)\n", m3(v, p->nonconv_l));
    wn_sb_printf(b, "  intake compared          %s m3 (%s)\n", m3(v, p->intake_l),
                 nonconv_in ? "fresh + non-conventional" : "fresh only");
    wn_sb_printf(b, "  water per unit product   %s m3 per %s\n", wn_fixed_format(a, (__int128)p->per_unit_ml, 6),
                 c->output_unit);
    if (p->has_recycling)
        wn_sb_printf(b, "  recycled water           %s m3; repeated utilisation rate %s %%\n", m3(v, p->recycled_l),
                     wn_fixed_format(a, p->reuse_ppm, 4));
    else
        wn_sb_printf(b, "  recycled water           no recycling meter claimed\n");
}

static void text_meters(wn_sb *b, const char *name, const wn_eval_period *p)
{
    char h[65], r[65], v[48], a[48], d[48];
    for (size_t i = 0; i < p->n_meters; i++) {
        const wn_eval_meter *m = &p->meters[i];
        wn_sb_printf(b, "  %s meter %s\n", name, hex(h, m->meter, 32));
        wn_sb_printf(b, "    %s, %s water", wn_point_name(m->point), wn_source_name(m->source));
        if (!m->found) {
            wn_sb_printf(b, "; not enrolled\n");
            continue;
        }
        wn_sb_printf(b, ", tier %u, enrolment at ledger index %llu; proved against checkpoint %s size %llu root %s\n",
                     (unsigned)m->tier, (unsigned long long)m->enrol_index, m->cp.origin,
                     (unsigned long long)m->cp.size, hex(r, m->cp.root, 32));
        if (!m->usable) {
            wn_sb_printf(b, "    not usable (see the reasons)\n");
            continue;
        }
        wn_sb_printf(b, "    %llu readings, seq %llu..%llu, ledger index %llu..%llu\n", (unsigned long long)m->n_readings,
                     (unsigned long long)m->first_seq, (unsigned long long)m->last_seq,
                     (unsigned long long)m->first_index, (unsigned long long)m->last_index);
        wn_sb_printf(b, "    intake %s m3; completeness %s %%; longest interval %s", m3(v, m->intake_l),
                     wn_fixed_format(a, m->completeness_ppm, 4), dur(d, m->longest_interval_ms));
        if (m->n_restarts || m->n_rollovers)
            wn_sb_printf(b, "; %zu totaliser restart%s (meter replaced), %zu rollover%s", m->n_restarts,
                         m->n_restarts == 1 ? "" : "s", m->n_rollovers, m->n_rollovers == 1 ? "" : "s");
        wn_sb_printf(b, "\n");
        text_boundary(b, "start", p->from_ms, &m->start);
        text_boundary(b, "end  ", p->to_ms, &m->end);
    }
}

char *wn_eval_text(const wn_eval_input *in, const wn_eval_result *res)
{
    const wn_claim *c = in->claim;
    const wn_policy *pol = in->policy;
    wn_sb b = {0};
    char h[65], a[48], v[48], t[25], d[48];
    wn_sb_printf(&b, "WaterNotary savings evaluation (%s)\n", WN_EVAL_METHOD);
    wn_sb_printf(&b, "claim       %s, digest %s\n", c->id, hex(h, res->claim_digest, 32));
    wn_sb_printf(&b, "enterprise  %s, key %s\n", c->enterprise, hex(h, c->enterprise_key, 32));
    if (in->enterprise.given && in->enterprise.found)
        wn_sb_printf(&b, "            enterprise record \"%s\" (%s), sequence %llu at ledger entry %llu, %zu key%s\n",
                     in->enterprise.rec.name, in->enterprise.rec.area, (unsigned long long)in->enterprise.rec.seq,
                     (unsigned long long)in->enterprise.index, in->enterprise.rec.n_keys,
                     in->enterprise.rec.n_keys == 1 ? "" : "s");
    else if (in->enterprise.given)
        wn_sb_printf(&b, "            no enterprise record\n");
    wn_sb_printf(&b, "project     %s\n", c->project);
    if (c->has_project_record)
        wn_sb_printf(&b, "            record by registrar %s: investment %s CNY, commissioned %s\n",
                     hex(h, c->project_record.registrar, 32), wn_fixed_format(a, c->project_record.investment_fen, 2),
                     tm(t, c->project_record.commissioned_ms));
    if (res->project_checked && !in->history_given) {
        wn_sb_printf(&b, "            subsidy certificates the project already holds: unknown (no history given); the "
                         "policy allows %llu\n", (unsigned long long)pol->subsidies_per_project);
    } else if (res->project_checked) {
        wn_sb_printf(&b, "            subsidy certificates the project already holds: %zu", res->n_prior_subsidies);
        for (size_t i = 0; i < res->n_prior_subsidies && i < 8; i++)
            wn_sb_printf(&b, "%s%llu", i ? ", " : " (ledger index ", (unsigned long long)res->prior_index[i]);
        wn_sb_printf(&b, "%s; the policy allows %llu\n", res->n_prior_subsidies ? ")" : "",
                     (unsigned long long)pol->subsidies_per_project);
    }
    wn_sb_printf(&b, "policy      %s, digest %s\n", pol->id, hex(h, res->policy_digest, 32));
    wn_sb_printf(&b, "            %s (%s", pol->title, pol->in_force ? "in force" : "a DRAFT, not in force");
    if (pol->effective_from_ms) wn_sb_printf(&b, ", from %s", tm(t, pol->effective_from_ms));
    if (pol->effective_to_ms) wn_sb_printf(&b, ", until %s", tm(t, pol->effective_to_ms));
    wn_sb_printf(&b, ")\n");
    if (res->cp.size)
        wn_sb_printf(&b, "checkpoint  %s size %llu root %s\n", res->cp.origin, (unsigned long long)res->cp.size,
                     hex(h, res->cp.root, 32));
    else
        wn_sb_printf(&b, "checkpoint  none (no data was found)\n");
    wn_sb_printf(&b, "\n");

    if (res->eligible)
        wn_sb_printf(&b, "DECISION: ELIGIBLE for the subsidy of %s CNY (%llu fen)\n", wn_fixed_format(a, res->subsidy_fen, 2),
                     (unsigned long long)res->subsidy_fen);
    else
        wn_sb_printf(&b, "DECISION: NOT ELIGIBLE for the subsidy (%zu reason%s)\n", res->n_reasons,
                     res->n_reasons == 1 ? "" : "s");
    if (res->saleable)
        wn_sb_printf(&b, "WATER RIGHTS: the saving of %s m3 a year may be certified for sale\n", m3(v, res->annual_l));
    else
        wn_sb_printf(&b, "WATER RIGHTS: no saving may be certified for sale\n");
    for (size_t i = 0; i < res->n_reasons; i++)
        wn_sb_printf(&b, "  [%s]%s %s\n", res->reasons[i].code, res->reasons[i].subsidy_only ? " (subsidy only)" : "",
                     res->reasons[i].detail);
    wn_sb_printf(&b, "\n");

    text_period(&b, "baseline ", &res->baseline, c, pol->nonconventional_is_intake);
    text_period(&b, "reporting", &res->reporting, c, pol->nonconventional_is_intake);
    wn_sb_printf(&b, "\nsaving (litres; every division rounds down)\n");
    if (res->computed) {
        uint64_t rl = c->reporting.to_ms - c->reporting.from_ms;
        wn_sb_printf(&b, "  expected intake    floor(%lld L x %s / %s) = %lld L\n", (long long)res->baseline.intake_l,
                     wn_fixed_format(a, c->reporting.output, 3), wn_fixed_format(v, c->baseline.output, 3),
                     (long long)res->expected_l);
        wn_sb_printf(&b, "  normalised saving  %lld L - %lld L = %lld L (%s m3)\n", (long long)res->expected_l,
                     (long long)res->reporting.intake_l, (long long)res->saving_l, m3(a, res->saving_l));
        wn_sb_printf(&b, "  annualised         floor(%lld L x %llu ms / %llu ms) = %lld L (%s m3 a year)\n",
                     (long long)res->saving_l, (unsigned long long)WN_EVAL_YEAR_MS, (unsigned long long)rl,
                     (long long)res->annual_l, m3(v, res->annual_l));
    } else {
        wn_sb_printf(&b, "  not computed: the data of a period is unusable or the baseline output is zero\n");
    }
    wn_sb_printf(&b, "  thresholds         annual saving >= %s m3; investment %s CNY >= %s CNY\n",
                 m3(a, (int64_t)pol->min_annual_saving_l), wn_fixed_format(v, c->investment_fen, 2),
                 wn_fixed_format(d, pol->min_investment_fen, 2));
    wn_sb_printf(&b, "\nsubsidy\n  floor(%llu fen x %llu ppm / 1000000)", (unsigned long long)c->investment_fen,
                 (unsigned long long)pol->subsidy_rate_ppm);
    if (pol->has_subsidy_cap) wn_sb_printf(&b, ", at most %llu fen", (unsigned long long)pol->subsidy_cap_fen);
    wn_sb_printf(&b, " = %llu fen; due: %llu fen (%s CNY)\n", (unsigned long long)res->subsidy_computed_fen,
                 (unsigned long long)res->subsidy_fen, wn_fixed_format(a, res->subsidy_fen, 2));

    wn_sb_printf(&b, "\ncertification\n");
    if (!c->certified) {
        wn_sb_printf(&b, "  none\n");
    } else {
        wn_sb_printf(&b, "  certifier %s, reference %s, signed %s: %s\n", hex(h, c->certifier, 32), c->reference,
                     tm(t, c->certified_ms), res->certifier_ok ? "valid" : "NOT VALID (see the reasons)");
        if (in->certifier.found)
            wn_sb_printf(&b, "  enrolled at ledger index %llu as %s (\"%s\", accreditation \"%s\")%s\n",
                         (unsigned long long)in->certifier.enrol_index,
                         wn_point_name(in->certifier.enrol.point) ? wn_point_name(in->certifier.enrol.point) : "?",
                         in->certifier.enrol.enterprise, in->certifier.enrol.calibration,
                         in->certifier.revoked ? ", REVOKED" : "");
    }
    wn_sb_printf(&b, "\nprovenance\n");
    text_meters(&b, "baseline ", &res->baseline);
    text_meters(&b, "reporting", &res->reporting);
    return wn_sb_take(&b);
}

/* ---- JSON ---- */

static void json_cp(wn_sb *b, const wn_eval_checkpoint *cp)
{
    if (!cp->size) {
        wn_sb_printf(b, "null");
        return;
    }
    wn_sb_printf(b, "{\"origin\":");
    wn_sb_json_str(b, cp->origin);
    wn_sb_printf(b, ",\"size\":%llu,\"root\":", (unsigned long long)cp->size);
    wn_sb_json_hex(b, cp->root, 32);
    wn_sb_printf(b, "}");
}

static void json_boundary(wn_sb *b, const char *name, const wn_eval_boundary *x)
{
    char t1[25], t2[25];
    wn_sb_printf(b, ",\"%s\":{\"exact\":%s,\"seq_a\":%llu,\"time_a\":\"%s\",\"seq_b\":%llu,\"time_b\":\"%s\"}", name,
                 x->exact ? "true" : "false", (unsigned long long)x->seq_a, tm(t1, x->time_a),
                 (unsigned long long)x->seq_b, tm(t2, x->time_b));
}

static void json_period(wn_sb *b, const wn_eval_period *p)
{
    char t1[25], t2[25], a[48];
    wn_sb_printf(b, "{\"from\":\"%s\",\"to\":\"%s\",\"length_ms\":%llu,\"output\":\"%s\",\"fresh_l\":%lld,"
                    "\"nonconventional_l\":%lld,\"intake_l\":%lld,\"per_unit_ml\":%llu,",
                 tm(t1, p->from_ms), tm(t2, p->to_ms), (unsigned long long)(p->to_ms - p->from_ms),
                 wn_fixed_format(a, p->output, 3), (long long)p->fresh_l, (long long)p->nonconv_l,
                 (long long)p->intake_l, (unsigned long long)p->per_unit_ml);
    if (p->has_recycling)
        wn_sb_printf(b, "\"recycled_l\":%lld,\"reuse_ppm\":%llu,", (long long)p->recycled_l,
                     (unsigned long long)p->reuse_ppm);
    else
        wn_sb_printf(b, "\"recycled_l\":null,\"reuse_ppm\":null,");
    wn_sb_printf(b, "\"meters\":[");
    for (size_t i = 0; i < p->n_meters; i++) {
        const wn_eval_meter *m = &p->meters[i];
        wn_sb_printf(b, "%s{\"meter\":", i ? "," : "");
        wn_sb_json_hex(b, m->meter, 32);
        wn_sb_printf(b, ",\"point\":\"%s\",\"source\":\"%s\",\"enrolled\":%s", wn_point_name(m->point),
                     wn_source_name(m->source), m->found ? "true" : "false");
        if (m->found) {
            wn_sb_printf(b, ",\"tier\":%u,\"enrolment_index\":%llu,\"checkpoint\":", (unsigned)m->tier,
                         (unsigned long long)m->enrol_index);
            json_cp(b, &m->cp);
        }
        wn_sb_printf(b, ",\"usable\":%s", m->usable ? "true" : "false");
        if (m->usable) {
            wn_sb_printf(b, ",\"intake_l\":%lld,\"completeness_ppm\":%llu,\"longest_interval_ms\":%llu,\"readings\":%llu,"
                            "\"first_seq\":%llu,\"last_seq\":%llu,\"first_index\":%llu,\"last_index\":%llu,"
                            "\"restarts\":%zu,\"rollovers\":%zu",
                         (long long)m->intake_l, (unsigned long long)m->completeness_ppm,
                         (unsigned long long)m->longest_interval_ms, (unsigned long long)m->n_readings,
                         (unsigned long long)m->first_seq, (unsigned long long)m->last_seq,
                         (unsigned long long)m->first_index, (unsigned long long)m->last_index, m->n_restarts,
                         m->n_rollovers);
            json_boundary(b, "start", &m->start);
            json_boundary(b, "end", &m->end);
        }
        wn_sb_printf(b, "}");
    }
    wn_sb_printf(b, "]}");
}

char *wn_eval_json(const wn_eval_input *in, const wn_eval_result *res)
{
    const wn_claim *c = in->claim;
    const wn_policy *pol = in->policy;
    wn_sb b = {0};
    char t[25], a[48];
    wn_sb_printf(&b, "{\"method\":\"%s\",\"claim\":{\"id\":", WN_EVAL_METHOD);
    wn_sb_json_str(&b, c->id);
    wn_sb_printf(&b, ",\"digest\":");
    wn_sb_json_hex(&b, res->claim_digest, 32);
    wn_sb_printf(&b, ",\"enterprise\":");
    wn_sb_json_str(&b, c->enterprise);
    wn_sb_printf(&b, ",\"enterprise_key\":");
    wn_sb_json_hex(&b, c->enterprise_key, 32);
    wn_sb_printf(&b, ",\"project\":");
    wn_sb_json_str(&b, c->project);
    wn_sb_printf(&b, ",\"output_unit\":");
    wn_sb_json_str(&b, c->output_unit);
    wn_sb_printf(&b, ",\"investment_fen\":%llu},\"policy\":{\"id\":", (unsigned long long)c->investment_fen);
    wn_sb_json_str(&b, pol->id);
    wn_sb_printf(&b, ",\"digest\":");
    wn_sb_json_hex(&b, res->policy_digest, 32);
    wn_sb_printf(&b, ",\"title\":");
    wn_sb_json_str(&b, pol->title);
    wn_sb_printf(&b, ",\"status\":\"%s\",\"subsidies_per_project\":%llu},\"project_record\":",
                 pol->in_force ? "in_force" : "draft", (unsigned long long)pol->subsidies_per_project);
    if (c->has_project_record) {
        wn_sb_printf(&b, "{\"id\":");
        wn_sb_json_str(&b, c->project_record.id);
        wn_sb_printf(&b, ",\"registrar\":");
        wn_sb_json_hex(&b, c->project_record.registrar, 32);
        wn_sb_printf(&b, ",\"investment_fen\":%llu,\"commissioned\":\"%s\",\"valid\":%s}",
                     (unsigned long long)c->project_record.investment_fen, tm(t, c->project_record.commissioned_ms),
                     res->project_checked ? (res->project_ok ? "true" : "false") : (wn_project_verify(&c->project_record) ? "true" : "false"));
    } else {
        wn_sb_printf(&b, "null");
    }
    wn_sb_printf(&b, ",\"enterprise_record\":");
    if (in->enterprise.given && in->enterprise.found) {
        wn_sb_printf(&b, "{\"code\":");
        wn_sb_json_str(&b, in->enterprise.rec.code);
        wn_sb_printf(&b, ",\"name\":");
        wn_sb_json_str(&b, in->enterprise.rec.name);
        wn_sb_printf(&b, ",\"sequence\":%llu,\"index\":%llu,\"keys\":%zu}", (unsigned long long)in->enterprise.rec.seq,
                     (unsigned long long)in->enterprise.index, in->enterprise.rec.n_keys);
    } else {
        wn_sb_printf(&b, "null");
    }
    wn_sb_printf(&b, ",\"project_subsidies\":");
    if (res->project_checked && in->history_given) {
        wn_sb_printf(&b, "[");
        for (size_t i = 0; i < res->n_prior_subsidies && i < 8; i++)
            wn_sb_printf(&b, "%s%llu", i ? "," : "", (unsigned long long)res->prior_index[i]);
        wn_sb_printf(&b, "]");
    } else {
        wn_sb_printf(&b, "null");
    }
    wn_sb_printf(&b, ",\"checkpoint\":");
    json_cp(&b, &res->cp);
    wn_sb_printf(&b, ",\"decision\":{\"eligible\":%s,\"saleable\":%s,\"subsidy_fen\":%llu,\"subsidy\":\"%s\","
                     "\"annual_saving_l\":%lld},\"reasons\":[",
                 res->eligible ? "true" : "false", res->saleable ? "true" : "false",
                 (unsigned long long)res->subsidy_fen, wn_fixed_format(a, res->subsidy_fen, 2),
                 (long long)(res->computed ? res->annual_l : 0));
    for (size_t i = 0; i < res->n_reasons; i++) {
        wn_sb_printf(&b, "%s{\"code\":", i ? "," : "");
        wn_sb_json_str(&b, res->reasons[i].code);
        wn_sb_printf(&b, ",\"scope\":\"%s\",\"detail\":", res->reasons[i].subsidy_only ? "subsidy" : "all");
        wn_sb_json_str(&b, res->reasons[i].detail);
        wn_sb_printf(&b, "}");
    }
    wn_sb_printf(&b, "],\"baseline\":");
    json_period(&b, &res->baseline);
    wn_sb_printf(&b, ",\"reporting\":");
    json_period(&b, &res->reporting);
    wn_sb_printf(&b, ",\"saving\":{\"computed\":%s", res->computed ? "true" : "false");
    if (res->computed)
        wn_sb_printf(&b, ",\"expected_l\":%lld,\"saving_l\":%lld,\"annual_l\":%lld,\"year_ms\":%llu,\"reporting_ms\":%llu",
                     (long long)res->expected_l, (long long)res->saving_l, (long long)res->annual_l,
                     (unsigned long long)WN_EVAL_YEAR_MS, (unsigned long long)(c->reporting.to_ms - c->reporting.from_ms));
    wn_sb_printf(&b, "},\"subsidy\":{\"investment_fen\":%llu,\"rate_ppm\":%llu,\"cap_fen\":",
                 (unsigned long long)c->investment_fen, (unsigned long long)pol->subsidy_rate_ppm);
    if (pol->has_subsidy_cap) wn_sb_printf(&b, "%llu", (unsigned long long)pol->subsidy_cap_fen);
    else wn_sb_printf(&b, "null");
    wn_sb_printf(&b, ",\"computed_fen\":%llu,\"due_fen\":%llu},\"certification\":",
                 (unsigned long long)res->subsidy_computed_fen, (unsigned long long)res->subsidy_fen);
    if (!c->certified) {
        wn_sb_printf(&b, "null");
    } else {
        wn_sb_printf(&b, "{\"certifier\":");
        wn_sb_json_hex(&b, c->certifier, 32);
        wn_sb_printf(&b, ",\"time\":\"%s\",\"reference\":", tm(t, c->certified_ms));
        wn_sb_json_str(&b, c->reference);
        wn_sb_printf(&b, ",\"valid\":%s,\"enrolment_index\":", res->certifier_ok ? "true" : "false");
        if (in->certifier.found)
            wn_sb_printf(&b, "%llu,\"revoked\":%s", (unsigned long long)in->certifier.enrol_index,
                         in->certifier.revoked ? "true" : "false");
        else
            wn_sb_printf(&b, "null,\"revoked\":false");
        wn_sb_printf(&b, "}");
    }
    wn_sb_printf(&b, "}\n");
    return wn_sb_take(&b);
}
