/* main.c — `wn-meter`, the meter-side program: creates meters, makes signed readings,
 * pushes the queue to a notary node, and simulates fleets of meters. Dispatches to a
 * subcommand (each in its own file, see agent.h). */
#include "device/agent/agent.h"
#include "device/agent/push.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"init", wn_agent_cmd_init, "create a meter (key and state) in a directory and print its id"},
    {"read", wn_agent_cmd_read, "make one signed, durable reading now"},
    {"push", wn_agent_cmd_push, "send pending readings to a node and store their receipts"},
    {"status", wn_agent_cmd_status, "show a meter's id, sequence state and queue"},
    {"enrol", wn_agent_cmd_enrol, "enrol a meter at a node (signed with the registrar key)"},
    {"bridge", wn_agent_cmd_bridge, "relay a meter firmware's UART to a node and its receipts back (docs/FIRMWARE.md)"},
    {"simulate", wn_agent_cmd_simulate, "enrol a fleet of simulated meters and push their readings"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: wn-meter <command> [options]   (wn-meter <command> --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexamples:\n"
               "  wn-meter init --state m1\n"
               "  wn-meter enrol --state m1 --node http://127.0.0.1:8420 --registrar-key registrar.key \\\n"
               "      --enterprise 91330400MA0000001X --point intake --tier 1\n"
               "  wn-meter read --state m1 --volume 123.456 --ph 7.21\n"
               "  wn-meter push --state m1 --node http://127.0.0.1:8420\n"
               "  wn-meter status --state m1\n"
               "  wn-meter simulate --node http://127.0.0.1:8420 --registrar-key registrar.key \\\n"
               "      --meters 12 --readings 96 --state fleet\n"
               "\nexit codes: 0 ok, 1 a reading was rejected or a receipt did not verify,\n"
               "2 usage or local state error, 3 node unreachable or out of protocol\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? WN_PUSH_LOCAL : 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, argv[1]) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "wn-meter: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return WN_PUSH_LOCAL;
}
