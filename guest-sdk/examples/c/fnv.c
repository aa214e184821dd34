/* FNV-1a (64-bit) of stdin: the job input (RFC 8785 canonical JSON of inputData).
   Prints the same line as ../js/fnv.js, ../assemblyscript and ../rust.
   Build: python3 -m ziglang cc --target=wasm32-wasi -O2 -s fnv.c -o fnv.wasm */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    unsigned long long bytes = 0, lines = 0;
    unsigned char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        for (size_t i = 0; i < n; i++) {
            hash ^= buf[i];
            hash *= 0x100000001b3ULL;
            if (buf[i] == '\n') lines++;
        }
        bytes += n;
    }
    printf("bytes=%llu lines=%llu fnv1a64=%016" PRIx64 "\n", bytes, lines, hash);
    return 0;
}
