/* Console output and exit through Arm semihosting (QEMU: -semihosting-config enable=on). */
#ifndef SEMIHOSTING_H
#define SEMIHOSTING_H

/* Writes a NUL-terminated string to the host's stdout. */
void sh_puts(const char *s);

/* Ends the run: QEMU exits with `code`. */
__attribute__((noreturn)) void sh_exit(int code);

#endif
