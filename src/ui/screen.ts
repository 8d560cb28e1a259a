/** The terminal's alternate screen (xterm 1049): the UI draws there and leaves the shell's screen as it was. */
export const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
export const LEAVE_ALT_SCREEN = '\x1b[?1049l';
