/**
 * ANSI text styles for the terminal. With color off every style is the identity, so
 * renderers call them unconditionally and piped output stays plain text.
 */
export interface TextStyle {
  readonly color: boolean;
  bold(text: string): string;
  italic(text: string): string;
  dim(text: string): string;
  /** Inline code. */
  code(text: string): string;
  /** Good news, e.g. `✓ done`. */
  success(text: string): string;
  /** Bad news, e.g. an error line. */
  failure(text: string): string;
}

/** Creates the styles for one output; `color` false gives plain text. */
export function createTextStyle(color: boolean): TextStyle {
  // SGR pairs: each style resets only itself, so styles nest (bold inside dim, etc.).
  const sgr = (on: number, off: number) => (text: string) => (color ? `\x1b[${on}m${text}\x1b[${off}m` : text);
  return {
    color,
    bold: sgr(1, 22),
    italic: sgr(3, 23),
    dim: sgr(2, 22),
    code: sgr(36, 39),
    success: sgr(32, 39),
    failure: sgr(31, 39),
  };
}
