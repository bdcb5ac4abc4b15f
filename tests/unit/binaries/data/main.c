/* Test fixture: a tiny CLI that prints "<name> <version>" for --version. */
#include <stdio.h>
#include <string.h>
#ifndef VERSION
#define VERSION "0.0.0"
#endif
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("hello %s\n", VERSION);
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "--quiet") == 0) {
    return 0;
  }
  printf("hello, world\n");
  return 0;
}
