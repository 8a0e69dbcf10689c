/* main.c — `wn`, the WaterNotary command-line tool: dispatches to a subcommand. */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    wn_cmd_fn fn;
    const char *summary;
} commands[] = {
    {"keygen", wn_cmd_keygen, "create a secret key file and print its public key"},
    {"demo", wn_cmd_demo, "create a ledger, append signed readings, print a checkpoint and a verified proof"},
    {"prove", wn_cmd_prove, "write an inclusion proof file for an entry of a local ledger"},
    {"prove-consistency", wn_cmd_prove_consistency, "write a consistency proof file between two checkpoints of a local ledger"},
    {"verify-inclusion", wn_cmd_verify_inclusion, "verify an inclusion proof file (C2SP tlog-proof) offline"},
    {"verify-consistency", wn_cmd_verify_consistency, "verify a consistency proof file offline"},
    {"checkpoint", wn_cmd_checkpoint, "fetch a node's latest checkpoint and verify its signature"},
    {"enrol", wn_cmd_enrol, "enrol a meter at a node (signed with the registrar key)"},
    {"revoke", wn_cmd_revoke, "revoke a meter at a node (signed with the registrar key)"},
    {"verify", wn_cmd_verify, "verify a proof bundle, receipt, receipts log, proof or checkpoint offline"},
    {"bundle", wn_cmd_bundle, "fetch a meter's proof bundle for a period from a node, verify it and write it"},
    {"consistency", wn_cmd_consistency, "check a node's log against a saved checkpoint; report forks"},
    {"verify-anchor", wn_cmd_verify_anchor, "prove a checkpoint existed by a block: check its anchoring transaction on the chain"},
    {"anchors", wn_cmd_anchors, "list a notary's anchors on the chain and check they form one history (forks)"},
    {"audit", wn_cmd_audit, "audit a whole ledger (a copy of the node's LMDB files): re-hash and re-verify everything"},
    {"backup", wn_cmd_backup, "back up a running node's data directory to one file; verify or restore a backup"},
    {"export", wn_cmd_export, "write a meter's or an enterprise's readings from a local ledger as CSV"},
    {"claim", wn_cmd_claim, "sign, certify or evaluate a water-savings claim against a policy (subsidy, water rights)"},
    {"cert", wn_cmd_cert, "savings certificates at a node: issue for an evaluated claim, show, transfer, retire"},
    {"accreditation", wn_cmd_accreditation, "sign (registrar), show, register or fetch a certifier's accreditation record"},
    {"calibration", wn_cmd_calibration, "sign (registrar), show, register or fetch a meter's calibration records"},
    {"enterprise", wn_cmd_enterprise, "sign (registrar), show, register or fetch the record of who may sign for an enterprise"},
    {"project", wn_cmd_project, "sign (registrar) or show a retrofit project record that claims carry"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: wn <command> [options]   (wn <command> --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-20s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit codes: 0 ok/valid, 1 invalid, 2 usage or unreadable input, 3 network/node error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return WN_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return WN_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, argv[1]) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "wn: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return WN_EXIT_USAGE;
}
