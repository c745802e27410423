/**
 * Last line of defence for text that goes to a log or a response: removes things that look like tokens
 * (JWTs, bearer values), signatures and credentials in URLs. Messages are written not to hold secrets in
 * the first place; this catches what a library put in an error message.
 */
const PATTERNS: [RegExp, string][] = [
  [/eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g, '[token]'],
  [/\b(bearer|basic)\s+[\w\-.~+/=]{8,}/gi, '$1 [redacted]'],
  [/\bv1,[A-Za-z0-9+/=]{16,}/g, 'v1,[signature]'],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, 'whsec_[redacted]'],
  [
    /([?&](?:sig|code|client_secret|assertion|access_token|refresh_token|client_assertion)=)[^&\s]+/gi,
    '$1[redacted]',
  ],
  [/(\/\/)[^/\s:@]+:[^/\s@]+@/g, '$1[credentials]@'],
  [
    /("?(?:client_secret|password|secret|assertion|access_token|refresh_token)"?\s*[:=]\s*"?)[^"\s,&}]+/gi,
    '$1[redacted]',
  ],
];

export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out.length > 2000 ? `${out.slice(0, 2000)}…` : out;
}
