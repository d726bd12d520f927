/* Preloaded after the ASan runtime into the uninstrumented mosquitto of the
 * ASan test stage (scripts/test.sh, docs/security.md). Built without
 * sanitizers; never linked into anything.
 *
 * Why: the ASan runtime starts lazily at the first malloc. In mosquitto that
 * malloc comes from libgpg-error's constructor, inside bindtextdomain(), which
 * holds glibc's gettext lock. ASan's start-up looks up `swift_demangle` with
 * dlsym() and then calls dlerror(), which formats its message through
 * gettext: it takes and releases the same lock inside the holder and leaves
 * the lock's reader count negative. The next bindtextdomain() in the process
 * (libpq's, at its first connection) then waits forever.
 *
 * With this symbol present, dlsym() succeeds and dlerror() has no message
 * to translate. ASan calls it only to demangle Swift names; returning NULL
 * means "not demangled", so reports stay as they were. */
#include <stddef.h>
#include <stdint.h>

char* swift_demangle(const char* mangled, size_t length, char* out, size_t* out_size, uint32_t flags) {
  (void)mangled;
  (void)length;
  (void)out;
  (void)out_size;
  (void)flags;
  return NULL;
}
