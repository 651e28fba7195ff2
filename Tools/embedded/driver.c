/* driver MODEL.vigil INPUT.f32 OUTPUT.f32 — runs the Embedded Swift build of the Vigil int8 core
 * (vigil_embedded_run) on raw little-endian float32 samples and writes the raw float32 outputs.
 * Built with aarch64-linux-gnu-gcc and run under qemu-aarch64 by run-qemu.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int32_t vigil_embedded_run(const uint8_t *model, size_t model_len, const float *input, size_t input_floats,
                           float *output, size_t output_cap_floats, size_t *output_floats, char *err, size_t errcap);

static void *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = NULL;
    /* 64-byte alignment, as from mmap: the runtime uses weights in place. */
    if (posix_memalign(&p, 64, n > 0 ? (size_t)n : 64) != 0) { fprintf(stderr, "out of memory\n"); exit(2); }
    if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(2); }
    fclose(f);
    *len = (size_t)n;
    return p;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s MODEL.vigil INPUT.f32 OUTPUT.f32\n", argv[0]); return 64; }
    size_t model_len, input_len;
    uint8_t *model = slurp(argv[1], &model_len);
    float *input = slurp(argv[2], &input_len);
    size_t cap = 1 << 24, produced = 0;
    float *output = malloc(cap * sizeof(float));
    char err[512];
    if (vigil_embedded_run(model, model_len, input, input_len / 4, output, cap, &produced, err, sizeof err) != 0) {
        fprintf(stderr, "vigil_embedded_run: %s\n", err);
        return 1;
    }
    FILE *out = fopen(argv[3], "wb");
    if (!out || fwrite(output, sizeof(float), produced, out) != produced) { perror(argv[3]); return 2; }
    fclose(out);
    printf("%zu output floats\n", produced);
    return 0;
}
