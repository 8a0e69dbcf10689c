/* commands.h — the `wn` subcommands. Each lives in its own cli/commands/cmd_*.c file and has the
 * signature int cmd(int argc, char **argv) with argv[0] = the subcommand name.
 * Exit codes (documented in README.md): 0 success / valid, 1 invalid (a proof, signature
 * or check failed), 2 usage error or unreadable input, 3 network or node error. */
#ifndef WN_CLI_COMMANDS_H
#define WN_CLI_COMMANDS_H

#define WN_EXIT_OK 0
#define WN_EXIT_INVALID 1
#define WN_EXIT_USAGE 2
#define WN_EXIT_NETWORK 3

typedef int (*wn_cmd_fn)(int argc, char **argv);

#define WN_CMD(name) int name(int argc, char **argv)

WN_CMD(wn_cmd_keygen);             /* cmd_keygen.c */
WN_CMD(wn_cmd_demo);               /* cmd_demo.c */
WN_CMD(wn_cmd_prove);              /* cmd_prove.c: inclusion proof file from a local ledger */
WN_CMD(wn_cmd_prove_consistency);  /* cmd_prove.c: consistency proof file from a local ledger */
WN_CMD(wn_cmd_verify_inclusion);   /* cmd_verify_proof.c */
WN_CMD(wn_cmd_verify_consistency); /* cmd_verify_proof.c */
WN_CMD(wn_cmd_checkpoint);         /* cmd_checkpoint.c: fetch and verify a node's checkpoint */
WN_CMD(wn_cmd_enrol);              /* cmd_enrol.c: enrol a meter at a node */
WN_CMD(wn_cmd_revoke);             /* cmd_enrol.c: revoke a meter at a node */
WN_CMD(wn_cmd_verify);             /* cmd_verify.c: check a bundle, receipt, log, proof or checkpoint offline */
WN_CMD(wn_cmd_bundle);             /* cmd_bundle.c: fetch, verify and write a proof bundle */
WN_CMD(wn_cmd_consistency);        /* cmd_consistency.c: saved checkpoint vs the node's latest; forks */
WN_CMD(wn_cmd_verify_anchor);      /* cmd_verify_anchor.c: a checkpoint's anchor on an Ethereum chain */
WN_CMD(wn_cmd_anchors);            /* cmd_anchors.c: every anchor of an address, one history or a fork */
WN_CMD(wn_cmd_audit);              /* cmd_audit.c: whole-ledger audit of a copy of the node's LMDB files */
WN_CMD(wn_cmd_backup);             /* cmd_backup.c: backup file of a running node; verify; restore */
WN_CMD(wn_cmd_export);             /* cmd_export.c: a meter's or enterprise's readings as CSV */
WN_CMD(wn_cmd_claim);              /* cmd_claim.c: sign, certify and evaluate savings claims */
WN_CMD(wn_cmd_cert);               /* cmd_cert.c: savings certificates: issue, show, transfer, retire */
WN_CMD(wn_cmd_accreditation);      /* cmd_enterprise.c: certifier accreditation records */
WN_CMD(wn_cmd_calibration);        /* cmd_calibration.c: meter calibration records */
WN_CMD(wn_cmd_enterprise);         /* cmd_enterprise.c: enterprise records: sign, show, register, bundle */
WN_CMD(wn_cmd_project);            /* cmd_project.c: retrofit project records: sign, show */

#endif
