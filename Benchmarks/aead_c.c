/* The same loop as `vrm-bench aead`, in C against libsodium: XChaCha20-Poly1305-IETF on 4 KiB,
 * a fresh random nonce per message, 32 bytes of associated data, encrypt then decrypt.
 * Prints encrypt+decrypt pairs per second of this thread's CPU time, over the given number of
 * CPU-seconds: what other processes and the hypervisor take from the thread does not count. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    if (sodium_init() < 0) return 1;
    unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    unsigned char message[4096], ad[32];
    unsigned char box[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 4096 + crypto_aead_xchacha20poly1305_ietf_ABYTES];
    unsigned char out[4096];
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
    memset(message, 0x5A, sizeof message);
    memset(ad, 1, sizeof ad);
    long pairs = 0;
    double start = now(), elapsed = 0;
    while ((elapsed = now() - start) < seconds) {
        for (int i = 0; i < 1000; i++) {
            unsigned long long clen, mlen;
            unsigned char *nonce = box, *ct = box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
            randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
            crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, message, sizeof message, ad, sizeof ad, NULL, nonce, key);
            if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, ct, clen, ad, sizeof ad, nonce, key) != 0) return 1;
        }
        pairs += 1000;
    }
    printf("%ld\n", (long)(pairs / elapsed));
    return 0;
}
