/**
 * True when this is a CI run: `CI` set to a non-empty value other than '0' or 'false' (any case). The one test for CI:
 * `check --update` refuses to write expectations in CI, and `analyze`/`live` print text instead of opening the
 * interactive UI (ink draws nothing until exit when it believes it runs in CI).
 */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}
