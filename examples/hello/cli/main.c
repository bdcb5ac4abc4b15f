/* hello: the command-line side of the example, cross-compiled by shipit's zig preset.
 * The version comes from the build: -DVERSION="0.1.0". */
#include <stdio.h>
#include <string.h>

#ifndef VERSION
#define VERSION "0.0.0-dev"
#endif

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
        printf("hello %s\n", VERSION);
        return 0;
    }
    printf("hello %s\n", argc > 1 ? argv[1] : "world");
    return 0;
}
