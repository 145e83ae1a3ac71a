/** ANSI styling for the terminal; a palette of identity functions when colour is off. */

export interface Palette {
  /** `+` green, `~` yellow, `-` red, `!` magenta and bold. */
  symbol(symbol: string): string;
  /** Something that cannot be undone (a DELETE). */
  danger(text: string): string;
  /** A refused guard. */
  error(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const identity = (text: string): string => text;

export const plainPalette: Palette = { symbol: identity, danger: identity, error: identity, bold: identity, dim: identity };

// SGR codes (ECMA-48): each style is reset with its own "off" code so styles can nest.
const sgr = (on: string, off: string) => (text: string) => `\u001b[${on}m${text}\u001b[${off}m`;
const green = sgr('32', '39');
const yellow = sgr('33', '39');
const red = sgr('31', '39');
const magenta = sgr('35', '39');
const bold = sgr('1', '22');
const dim = sgr('2', '22');

export const ansiPalette: Palette = {
  symbol: (symbol) => {
    switch (symbol) {
      case '+':
        return green(symbol);
      case '~':
        return yellow(symbol);
      case '-':
        return red(symbol);
      case '!':
        return bold(magenta(symbol));
      default:
        return symbol;
    }
  },
  danger: (text) => bold(red(text)),
  error: (text) => bold(red(text)),
  bold,
  dim,
};

export function paletteFor(color: boolean): Palette {
  return color ? ansiPalette : plainPalette;
}
