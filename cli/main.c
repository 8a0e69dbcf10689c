/* main.c — `wn`, the WaterNotary command-line tool: dispatches to a subcommand. */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *summary;
} commands[] = {
    {"keygen", "create a secret key file and print its public key"},
    {"demo", "create a ledger, append signed readings, print a checkpoint and a verified proof"},
    {"prove", "write an inclusion proof file for an entry of a local ledger"},
    {"prove-consistency", "write a consistency proof file between two checkpoints of a local ledger"},
    {"verify-inclusion", "verify an inclusion proof file (C2SP tlog-proof) offline"},
    {"verify-consistency", "verify a consistency proof file offline"},
    {"checkpoint", "fetch a node's latest checkpoint and verify its signature"},
    {"enrol", "enrol a meter at a node (signed with the registrar key)"},
    {"revoke", "revoke a meter at a node (signed with the registrar key)"},
};

static wn_cmd_fn lookup(const char *name)
{
    wn_cmd_fn table[] = {wn_cmd_keygen, wn_cmd_demo, wn_cmd_prove, wn_cmd_prove_consistency,
                         wn_cmd_verify_inclusion, wn_cmd_verify_consistency, wn_cmd_checkpoint,
                         wn_cmd_enrol, wn_cmd_revoke};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) return table[i];
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: wn <command> [options]   (wn <command> --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-20s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit codes: 0 ok/valid, 1 invalid, 2 usage or unreadable input, 3 network/node error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? WN_EXIT_USAGE : WN_EXIT_OK;
    }
    int known = 0;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, argv[1]) == 0) known = 1;
    if (!known) {
        fprintf(stderr, "wn: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return WN_EXIT_USAGE;
    }
    wn_cmd_fn fn = lookup(argv[1]);
    if (!fn) {
        fprintf(stderr, "wn: command '%s' is not built into this binary\n", argv[1]);
        return WN_EXIT_USAGE;
    }
    return fn(argc - 1, argv + 1);
}
