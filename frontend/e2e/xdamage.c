/* Prints each rectangle drawn to one X window, "x y width height" a line,
   after a first line "ready": the X DAMAGE extension, raw rectangles.
   Used by harness.mjs (recordDamage) to see what a keystroke repaints in
   the app's own window. Usage: xdamage WINDOW-ID (DISPLAY from the
   environment). */
#include <X11/Xlib.h>
#include <X11/extensions/Xdamage.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: xdamage WINDOW-ID\n");
    return 2;
  }
  Display *d = XOpenDisplay(NULL);
  if (!d) {
    fprintf(stderr, "xdamage: cannot open display\n");
    return 1;
  }
  int event, error;
  if (!XDamageQueryExtension(d, &event, &error)) {
    fprintf(stderr, "xdamage: the X server has no DAMAGE extension\n");
    return 1;
  }
  XDamageCreate(d, (Window)strtoul(argv[1], NULL, 0), XDamageReportRawRectangles);
  /* A new damage object reports the whole window once: drop that, it is
     not something drawn. XSync returns once the server has sent it. */
  XSync(d, False);
  while (XPending(d)) {
    XEvent e;
    XNextEvent(d, &e);
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    XEvent e;
    XNextEvent(d, &e);
    if (e.type == event + XDamageNotify) {
      XDamageNotifyEvent *n = (XDamageNotifyEvent *)&e;
      printf("%d %d %d %d\n", n->area.x, n->area.y, n->area.width, n->area.height);
      fflush(stdout);
    }
  }
}
