/** An error as one line: its message's first line, led by its name unless that is plain `Error`. */
export function errorLine(e: unknown): string {
  return (e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e)).split('\n')[0] as string;
}
