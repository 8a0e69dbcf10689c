/* bench_alg.c — signature verification rates of the four meter algorithms (PROTOCOL §1)
 * on one thread, with keys prepared once as the node and the audit prepare them
 * (crypto/verifier.h), and each rate as a ratio to BIP-340's measured in the same run (the
 * machine is shared and noisy: compare ratios). Signing rates are printed for meter makers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/evp_ec.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "crypto/verifier.h"

#define N 2000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    const char *name;
    double sign_rate, verify_rate;
} result;

static uint8_t digests[N][32], sigs[N][64];

static result run(uint8_t alg)
{
    static const char *const names[] = {"", "bip340", "ecdsa-secp256k1", "ecdsa-p256", "sm2-sm3"};
    uint8_t sk[32], pub[33];
    wn_verifier v;
    int ok = 1;
    if (alg == WN_ALG_P256) ok = wn_p256_seckey_generate(sk) && wn_p256_pub33(pub, sk) && wn_verifier_evp(&v, alg, pub);
    else if (alg == WN_ALG_SM2) ok = wn_sm2_seckey_generate(sk) && wn_sm2_pub33(pub, sk) && wn_verifier_evp(&v, alg, pub);
    else {
        ok = wn_seckey_generate(sk) && wn_seckey_pub33(pub, sk);
        if (alg == WN_ALG_BIP340) {
            uint8_t x[32];
            ok = ok && wn_seckey_xonly(x, sk) && wn_verifier_bip340(&v, x);
        } else {
            ok = ok && wn_verifier_ecdsa(&v, pub);
        }
    }
    if (!ok) { fprintf(stderr, "bench_alg: key setup failed for %s\n", names[alg]); exit(1); }
    for (int i = 0; i < N; i++) wn_sha256(digests[i], &i, sizeof i);
    double t0 = now();
    for (int i = 0; i < N && ok; i++) {
        if (alg == WN_ALG_BIP340) ok = wn_schnorr_sign(sigs[i], sk, digests[i], NULL);
        else if (alg == WN_ALG_ECDSA) ok = wn_ecdsa_sign(sigs[i], sk, digests[i]);
        else if (alg == WN_ALG_P256) ok = wn_p256_sign(sigs[i], sk, digests[i]);
        else ok = wn_sm2_sign(sigs[i], sk, NULL, digests[i], 32);
    }
    double t1 = now();
    for (int i = 0; i < N && ok; i++) ok = wn_verifier_verify(&v, sigs[i], digests[i]);
    double t2 = now();
    if (!ok) { fprintf(stderr, "bench_alg: a signature of %s did not verify\n", names[alg]); exit(1); }
    return (result){names[alg], N / (t1 - t0), N / (t2 - t1)};
}

int main(void)
{
    result r[5];
    for (uint8_t a = WN_ALG_BIP340; a <= WN_ALG_SM2; a++) r[a] = run(a);
    printf("meter signature algorithms, one thread, %d signatures each, prepared keys:\n", N);
    printf("  %-16s %12s %12s %16s\n", "algorithm", "sign/s", "verify/s", "verify vs BIP-340");
    for (int a = 1; a <= 4; a++)
        printf("  %-16s %12.0f %12.0f %16.2f\n", r[a].name, r[a].sign_rate, r[a].verify_rate,
               r[a].verify_rate / r[1].verify_rate);
    return 0;
}
