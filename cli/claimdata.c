/* claimdata.c — proof bundles in, evaluator input out (claimdata.h). */
#include "cli/claimdata.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/net.h"
#include "cli/util.h"
#include "crypto/encoding.h"

#define BUNDLE_NAME_MAX 256

static void cp_of(wn_eval_checkpoint *cp, const wn_bundle *b)
{
    memset(cp, 0, sizeof *cp);
    snprintf(cp->origin, sizeof cp->origin, "%s", b->cp.origin);
    cp->size = b->cp.size;
    memcpy(cp->root, b->cp.root, 32);
}

static void series_of(wn_eval_series *s, const wn_bundle *b, const wn_eval_reading *arr, size_t n)
{
    memset(s, 0, sizeof *s);
    s->found = 1;
    s->enrol = b->enrol;
    s->enrol_index = b->enrolment.index;
    s->revoked = b->has_revocation;
    s->revoke_index = b->has_revocation ? b->revocation.index : 0;
    s->from_ms = b->from_ms;
    s->to_ms = b->to_ms;
    s->readings = arr;
    s->n = n;
    s->n_equivocations = b->n_equivocations;
    cp_of(&s->cp, b);
}

/* The bundle of meter covering [from, to) with the largest checkpoint (the first on a tie). */
static long pick(const wn_claim_data *d, const uint8_t meter[32], uint64_t from, uint64_t to)
{
    long best = -1;
    for (size_t i = 0; i < d->n_bundles; i++) {
        const wn_bundle *b = &d->bundles[i];
        if (memcmp(b->meter, meter, 32) != 0 || b->from_ms > from || b->to_ms < to) continue;
        if (best < 0 || b->cp.size > d->bundles[best].cp.size) best = (long)i;
    }
    return best;
}

static size_t count_readings(const wn_bundle *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_readings; i++) n += b->readings[i].valid;
    return n;
}

/* The accreditation bundle of code with the largest checkpoint: its last record is in force. */
static void pick_accreditation(wn_claim_data *d, const char *code, int missing_ok)
{
    long best = -1;
    memset(&d->accreditation, 0, sizeof d->accreditation);
    for (size_t i = 0; i < d->n_ent_bundles; i++)
        if (d->ent_bundles[i].acc && strcmp(d->ent_bundles[i].code, code) == 0 &&
            (best < 0 || d->ent_bundles[i].cp.size > d->ent_bundles[best].cp.size))
            best = (long)i;
    if (best < 0) { /* online: the node has no record of the code; no record can exist for another text */
        d->accreditation.given = missing_ok || !wn_uscc_valid(code);
        return;
    }
    const wn_ent_bundle *b = &d->ent_bundles[best];
    d->accreditation.given = d->accreditation.found = 1;
    d->accreditation.rec = b->arecs[b->n_records - 1];
    d->accreditation.index = b->records[b->n_records - 1].index;
    snprintf(d->accreditation.cp.origin, sizeof d->accreditation.cp.origin, "%s", b->cp.origin);
    d->accreditation.cp.size = b->cp.size;
    memcpy(d->accreditation.cp.root, b->cp.root, 32);
}

static int choose(const char *cmd, wn_claim_data *d, const wn_claim *c, int missing_ok)
{
    const wn_claim_period *periods[2] = {&c->baseline, &c->reporting};
    wn_eval_series *series[2] = {d->baseline, d->reporting};
    const char *pname[2] = {"baseline", "reporting"};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < periods[p]->n_meters; i++) {
            const uint8_t *meter = periods[p]->meters[i].meter;
            long k = pick(d, meter, periods[p]->from_ms, periods[p]->to_ms);
            memset(&series[p][i], 0, sizeof series[p][i]);
            if (k < 0) {
                if (missing_ok) continue;
                char h[65], f[25], t[25];
                wn_hex_encode(h, meter, 32);
                wn_time_format(f, periods[p]->from_ms);
                wn_time_format(t, periods[p]->to_ms);
                wn_cli_error(cmd, "no bundle of meter %s covers the %s period; fetch one with: wn bundle --node URL "
                                  "--meter %s --from %s --to %s --out FILE", h, pname[p], h, f, t);
                return WN_EXIT_USAGE;
            }
            series_of(&series[p][i], &d->bundles[k], d->arrays[k], count_readings(&d->bundles[k]));
            long cb = -1;
            for (size_t j = 0; j < d->n_cal_bundles; j++)
                if (memcmp(d->cal_bundles[j].meter, meter, 32) == 0 &&
                    (cb < 0 || d->cal_bundles[j].cp.size > d->cal_bundles[cb].cp.size))
                    cb = (long)j;
            if (cb >= 0) {
                const wn_cal_bundle *b = &d->cal_bundles[cb];
                series[p][i].cal_given = 1;
                series[p][i].cals = b->recs;
                series[p][i].n_cals = b->n_records;
                snprintf(series[p][i].cal_cp.origin, sizeof series[p][i].cal_cp.origin, "%s", b->cp.origin);
                series[p][i].cal_cp.size = b->cp.size;
                memcpy(series[p][i].cal_cp.root, b->cp.root, 32);
            }
        }
    memset(&d->enterprise, 0, sizeof d->enterprise);
    long eb = -1;
    for (size_t i = 0; i < d->n_ent_bundles; i++)
        if (!d->ent_bundles[i].acc && strcmp(d->ent_bundles[i].code, c->enterprise) == 0 &&
            (eb < 0 || d->ent_bundles[i].cp.size > d->ent_bundles[eb].cp.size))
            eb = (long)i;
    if (eb >= 0) { /* the records ascend: the last is the one in force at the checkpoint */
        const wn_ent_bundle *b = &d->ent_bundles[eb];
        d->enterprise.given = d->enterprise.found = 1;
        d->enterprise.rec = b->recs[b->n_records - 1];
        d->enterprise.index = b->records[b->n_records - 1].index;
        d->enterprise.n_records = b->n_records;
        snprintf(d->enterprise.cp.origin, sizeof d->enterprise.cp.origin, "%s", b->cp.origin);
        d->enterprise.cp.size = b->cp.size;
        memcpy(d->enterprise.cp.root, b->cp.root, 32);
    } else if (missing_ok) {
        d->enterprise.given = 1; /* online: the node has no record of the code */
    }
    memset(&d->certifier, 0, sizeof d->certifier);
    if (c->certified) {
        long best = -1;
        for (size_t i = 0; i < d->n_bundles; i++)
            if (memcmp(d->bundles[i].meter, c->certifier, 32) == 0 &&
                (best < 0 || d->bundles[i].cp.size > d->bundles[best].cp.size))
                best = (long)i;
        if (best >= 0) {
            const wn_bundle *b = &d->bundles[best];
            d->certifier.found = 1;
            d->certifier.enrol = b->enrol;
            d->certifier.enrol_index = b->enrolment.index;
            d->certifier.revoked = b->has_revocation;
            d->certifier.revoke_index = b->has_revocation ? b->revocation.index : 0;
            cp_of(&d->certifier.cp, b);
            pick_accreditation(d, b->enrol.enterprise, missing_ok);
        } else if (!missing_ok) {
            char h[65];
            wn_hex_encode(h, c->certifier, 32);
            wn_cli_error(cmd, "no bundle of the certifier %s was given: it proves the certifier's enrolment; fetch one "
                              "with: wn bundle --node URL --meter %s --from FROM --to TO --out FILE", h, h);
            return WN_EXIT_USAGE;
        }
    }
    return WN_EXIT_OK;
}

static int load_texts(const char *cmd, wn_claim_data *d, const wn_claim *c, char *const *texts, const size_t *lens,
                      const char *const *names, size_t n, const uint8_t notary[32], const uint8_t *registrar,
                      int missing_ok)
{
    memset(d, 0, sizeof *d);
    d->bundles = calloc(n ? n : 1, sizeof *d->bundles);
    d->arrays = calloc(n ? n : 1, sizeof *d->arrays);
    d->ent_bundles = calloc(n ? n : 1, sizeof *d->ent_bundles);
    d->cal_bundles = calloc(n ? n : 1, sizeof *d->cal_bundles);
    if (!d->bundles || !d->arrays || !d->ent_bundles || !d->cal_bundles) {
        wn_cli_error(cmd, "out of memory");
        return WN_EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        char detail[256];
        if (wn_cal_bundle_sniff(texts[i], lens[i])) {
            wn_cal_bundle *cb = &d->cal_bundles[d->n_cal_bundles++];
            if (!wn_cal_bundle_parse(cb, texts[i], lens[i], detail, sizeof detail)) {
                wn_cli_error(cmd, "%s: not a calibration bundle: %s", names[i], detail);
                return WN_EXIT_USAGE;
            }
            wn_report rep;
            wn_report_init(&rep, "calibration-bundle");
            if (!wn_cal_bundle_verify(cb, notary, registrar, &rep)) {
                fprintf(stderr, "%s:\n", names[i]);
                wn_report_print(&rep, stderr, 20);
                wn_cli_error(cmd, "%s: INVALID calibration bundle: nothing is evaluated from tampered evidence", names[i]);
                wn_report_free(&rep);
                return WN_EXIT_INVALID;
            }
            wn_report_free(&rep);
            continue;
        }
        if (wn_ent_bundle_sniff(texts[i], lens[i])) {
            wn_ent_bundle *eb = &d->ent_bundles[d->n_ent_bundles++];
            if (!wn_ent_bundle_parse(eb, texts[i], lens[i], detail, sizeof detail)) {
                wn_cli_error(cmd, "%s: not an enterprise bundle: %s", names[i], detail);
                return WN_EXIT_USAGE;
            }
            wn_report rep;
            wn_report_init(&rep, "enterprise-bundle");
            if (!wn_ent_bundle_verify(eb, notary, registrar, &rep)) {
                fprintf(stderr, "%s:\n", names[i]);
                wn_report_print(&rep, stderr, 20);
                wn_cli_error(cmd, "%s: INVALID enterprise bundle: nothing is evaluated from tampered evidence", names[i]);
                wn_report_free(&rep);
                return WN_EXIT_INVALID;
            }
            wn_report_free(&rep);
            continue;
        }
        wn_bundle *b = &d->bundles[d->n_bundles];
        d->n_bundles++;
        if (!wn_bundle_parse(b, texts[i], lens[i], detail, sizeof detail)) {
            wn_cli_error(cmd, "%s: not a proof bundle: %s", names[i], detail);
            return WN_EXIT_USAGE;
        }
        wn_report rep;
        wn_report_init(&rep, "bundle");
        if (!wn_bundle_verify(b, notary, registrar, &rep)) {
            fprintf(stderr, "%s:\n", names[i]);
            wn_report_print(&rep, stderr, 20);
            wn_cli_error(cmd, "%s: INVALID proof bundle (%zu problem%s): nothing is evaluated from tampered or "
                              "incomplete data", names[i], rep.n_reasons, rep.n_reasons == 1 ? "" : "s");
            wn_report_free(&rep);
            return WN_EXIT_INVALID;
        }
        wn_report_free(&rep);
        size_t bi = d->n_bundles - 1;
        d->arrays[bi] = calloc(b->n_readings ? b->n_readings : 1, sizeof **d->arrays);
        if (!d->arrays[bi]) {
            wn_cli_error(cmd, "out of memory");
            return WN_EXIT_USAGE;
        }
        size_t k = 0;
        for (size_t j = 0; j < b->n_readings; j++) {
            const wn_bundle_entry *e = &b->readings[j];
            if (!e->valid) continue;
            wn_eval_reading_from(&d->arrays[bi][k], &e->reading, e->index);
            /* the commit time the entry bytes carry, proved by the inclusion proof */
            if (e->parsed && e->view.timed)
                wn_eval_reading_committed(&d->arrays[bi][k], e->view.commit_ms, (e->view.marks & WN_ENTRY_MARK_LATE) != 0);
            k++;
        }
    }
    return choose(cmd, d, c, missing_ok);
}

int wn_claim_data_from_texts(const char *cmd, wn_claim_data *d, const wn_claim *c, char *const *texts,
                             const size_t *lens, const char *const *names, size_t n, const uint8_t notary[32],
                             const uint8_t *registrar)
{
    return load_texts(cmd, d, c, texts, lens, names, n, notary, registrar, 0);
}

int wn_claim_data_from_files(const char *cmd, wn_claim_data *d, const wn_claim *c, const char *const *paths, size_t n,
                             const uint8_t notary[32], const uint8_t *registrar)
{
    char **texts = calloc(n ? n : 1, sizeof *texts);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    int rc = WN_EXIT_USAGE;
    memset(d, 0, sizeof *d);
    if (!texts || !lens) goto out;
    for (size_t i = 0; i < n; i++)
        if (!(texts[i] = wn_cli_read_file(cmd, paths[i], WN_BUNDLE_FILE_MAX, &lens[i]))) goto out;
    rc = load_texts(cmd, d, c, texts, lens, paths, n, notary, registrar, 0);
out:
    for (size_t i = 0; texts && i < n; i++) free(texts[i]);
    free(texts);
    free(lens);
    return rc;
}

/* ---- online ---- */

typedef struct {
    char **texts;
    size_t *lens;
    char (*names)[BUNDLE_NAME_MAX];
    size_t n, cap;
} fetched;

static int is_error(const wn_cli_resp *r, const char *code)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
    int yes = cJSON_IsString(e) && strcmp(e->valuestring, code) == 0;
    cJSON_Delete(j);
    return yes;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int fetch_path(const char *cmd, fetched *f, const char *node, const char *path, const char *what,
                      uint64_t wait_s);

/* GETs one bundle into f (nothing for a meter the node does not know). */
static int fetch_one(const char *cmd, fetched *f, const char *node, const uint8_t meter[32], uint64_t from, uint64_t to,
                     uint64_t wait_s)
{
    char hex[65], ft[25], tt[25], path[256];
    wn_hex_encode(hex, meter, 32);
    wn_time_format(ft, from);
    wn_time_format(tt, to);
    snprintf(path, sizeof path, "/v1/bundle?meter=%s&from=%s&to=%s", hex, ft, tt);
    return fetch_path(cmd, f, node, path, hex, wait_s);
}

/* GETs path into f (nothing for a 404 not_found); what names it in messages. */
static int fetch_path(const char *cmd, fetched *f, const char *node, const char *path, const char *what,
                      uint64_t wait_s)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->names[i], path) == 0) return WN_EXIT_OK; /* asked already */
    wn_cli_resp r;
    for (uint64_t waited_ms = 0;; waited_ms += 200) {
        if (!wn_cli_http(cmd, node, "GET", path, NULL, &r)) {
            free(r.body);
            return WN_EXIT_NETWORK;
        }
        if (r.status != 404 || !is_error(&r, "not_checkpointed") || waited_ms >= wait_s * 1000) break;
        free(r.body);
        sleep_ms(200);
    }
    if (r.status == 404 && is_error(&r, "not_found")) {
        free(r.body); /* never enrolled: the evaluation says so */
        return WN_EXIT_OK;
    }
    if (r.status != 200) {
        char msg[512];
        wn_cli_error(cmd, "the node gave no bundle for %s: %s", what, wn_cli_node_error(&r, msg, sizeof msg));
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        char **t = realloc(f->texts, cap * sizeof *t);
        if (t) f->texts = t;
        size_t *l = realloc(f->lens, cap * sizeof *l);
        if (l) f->lens = l;
        char(*nm)[BUNDLE_NAME_MAX] = realloc(f->names, cap * sizeof *nm);
        if (nm) f->names = nm;
        if (!t || !l || !nm) {
            free(r.body);
            wn_cli_error(cmd, "out of memory");
            return WN_EXIT_USAGE;
        }
        f->cap = cap;
    }
    f->texts[f->n] = r.body;
    f->lens[f->n] = r.len;
    snprintf(f->names[f->n], BUNDLE_NAME_MAX, "%s", path);
    f->n++;
    return WN_EXIT_OK;
}

int wn_claim_data_fetch(const char *cmd, wn_claim_data *d, const wn_claim *c, const char *node,
                        const uint8_t notary[32], const uint8_t *registrar, uint64_t wait_s)
{
    fetched f = {0};
    int rc = WN_EXIT_OK;
    memset(d, 0, sizeof *d);
    const wn_claim_period *periods[2] = {&c->baseline, &c->reporting};
    for (int p = 0; p < 2 && !rc; p++)
        for (size_t i = 0; i < periods[p]->n_meters && !rc; i++)
            rc = fetch_one(cmd, &f, node, periods[p]->meters[i].meter, periods[p]->from_ms, periods[p]->to_ms, wait_s);
    if (!rc && c->certified) rc = fetch_one(cmd, &f, node, c->certifier, c->reporting.from_ms, c->reporting.to_ms, wait_s);
    for (int p = 0; p < 2 && !rc; p++) /* each claimed meter's calibration records (none: a 404, nothing kept) */
        for (size_t i = 0; i < periods[p]->n_meters && !rc; i++) {
            char hex[65], path[128];
            wn_hex_encode(hex, periods[p]->meters[i].meter, 32);
            snprintf(path, sizeof path, "/v1/calibrations/bundle?meter=%s", hex);
            rc = fetch_path(cmd, &f, node, path, hex, wait_s);
        }
    if (!rc && wn_uscc_valid(c->enterprise)) { /* no record can exist for another code */
        char path[128];
        snprintf(path, sizeof path, "/v1/enterprises/bundle?code=%s", c->enterprise);
        rc = fetch_path(cmd, &f, node, path, c->enterprise, wait_s);
    }
    /* the certifier's accreditation, by the organisation its enrolment names: known only
     * once its bundle is read, so fetched in a second round */
    if (!rc && c->certified) {
        const char **names = calloc(f.n ? f.n : 1, sizeof *names);
        wn_claim_data probe;
        rc = names ? WN_EXIT_OK : WN_EXIT_USAGE;
        for (size_t i = 0; names && i < f.n; i++) names[i] = f.names[i];
        if (names && load_texts(cmd, &probe, c, f.texts, f.lens, names, f.n, notary, registrar, 1) == WN_EXIT_OK &&
            probe.certifier.found && wn_uscc_valid(probe.certifier.enrol.enterprise)) {
            char path[128];
            snprintf(path, sizeof path, "/v1/accreditations/bundle?code=%s", probe.certifier.enrol.enterprise);
            rc = fetch_path(cmd, &f, node, path, probe.certifier.enrol.enterprise, wait_s);
        }
        if (names) wn_claim_data_free(&probe);
        free(names);
    }
    if (!rc) {
        const char **names = calloc(f.n ? f.n : 1, sizeof *names);
        if (!names) rc = WN_EXIT_USAGE;
        for (size_t i = 0; names && i < f.n; i++) names[i] = f.names[i];
        if (names) rc = load_texts(cmd, d, c, f.texts, f.lens, names, f.n, notary, registrar, 1);
        free(names);
    }
    for (size_t i = 0; i < f.n; i++) free(f.texts[i]);
    free(f.texts);
    free(f.lens);
    free(f.names);
    return rc;
}

wn_eval_input wn_claim_data_input(const wn_claim_data *d, const wn_claim *c, const wn_policy *p)
{
    wn_eval_input in = {.claim = c, .policy = p, .baseline = d->baseline, .reporting = d->reporting,
                        .certifier = d->certifier, .enterprise = d->enterprise, .accreditation = d->accreditation};
    return in;
}

int wn_claim_data_need_enterprise(const char *cmd, const wn_claim_data *d, const wn_claim *c, const wn_policy *p)
{
    if (p->accreditation_scope[0] && c->certified && d->certifier.found && !d->accreditation.given) {
        const char *org = d->certifier.enrol.enterprise;
        wn_cli_error(cmd, "the policy requires the certifier's accreditation and no accreditation bundle of \"%s\" was "
                          "given; fetch one with: wn accreditation bundle --node URL --code %s --out FILE", org, org);
        return WN_EXIT_USAGE;
    }
    if (!p->require_registered_enterprise || d->enterprise.given) return WN_EXIT_OK;
    wn_cli_error(cmd, "the policy requires an enterprise record and no enterprise bundle of \"%s\" was given: it "
                      "proves who may sign for the enterprise; fetch one with: wn enterprise bundle --node URL --code %s "
                      "--out FILE", c->enterprise, c->enterprise);
    return WN_EXIT_USAGE;
}

void wn_claim_data_free(wn_claim_data *d)
{
    for (size_t i = 0; i < d->n_cal_bundles; i++) wn_cal_bundle_free(&d->cal_bundles[i]);
    free(d->cal_bundles);
    for (size_t i = 0; i < d->n_ent_bundles; i++) wn_ent_bundle_free(&d->ent_bundles[i]);
    free(d->ent_bundles);
    for (size_t i = 0; i < d->n_bundles; i++) {
        wn_bundle_free(&d->bundles[i]);
        if (d->arrays) free(d->arrays[i]);
    }
    free(d->bundles);
    free(d->arrays);
    memset(d, 0, sizeof *d);
}
