/**
 * Credentials never reach a message, a log line, Redis metadata or a report: the password of
 * any `scheme://user:password@host` URL in a text is replaced by `***` (the user stays, it
 * tells which account was used).
 */
export function redactUrls(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]*):([^/\s@]*)@/gi, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}
