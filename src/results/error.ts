/** A result folder that cannot be read or written: one line naming the file (the CLI prints it and exits 2). */
export class ResultsError extends Error {
  override readonly name = 'ResultsError';
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
  }

  oneLine(): string {
    return this.message.split('\n')[0] ?? this.message;
  }
}
