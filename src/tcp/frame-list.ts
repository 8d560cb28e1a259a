/** Adds frame `f` (not 0, not already there) to `frames`, kept in frame order (a handful of frames: no sort). */
export function addFrame(frames: number[], f: number): void {
  if (f === 0 || frames.includes(f)) return;
  let i = frames.length;
  frames.push(f);
  while (i > 0 && (frames[i - 1] as number) > f) { frames[i] = frames[i - 1] as number; i--; }
  frames[i] = f;
}
