/* lifecycle.h — opening and closing the notary node (node.h): keys, ledger, derived
 * state, threads and the listening socket, in that order, and back. */
#ifndef WN_NODE_LIFECYCLE_H
#define WN_NODE_LIFECYCLE_H

#include "node/node.h"

/* Opens keys, ledger and state, starts the threads, listens. Logs what fails.
 * Returns: 1 on success. */
int wn_node_open(wn_node **out, const wn_node_config *cfg);
/* Stops accepting, answers what is in flight, writes a last checkpoint, closes all. */
void wn_node_close(wn_node *n);

#endif
