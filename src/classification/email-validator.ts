/**
 * Email address syntax: the dot-atom form of RFC 5322 §3.4.1 that real mailboxes use, with the length
 * limits of RFC 5321 §4.5.3.1 (local part ≤ 64, whole address ≤ 254) and a DNS host name with a
 * top-level domain (so `user@localhost` and `user@10.0.0.1` are not counted). Quoted local parts and
 * address literals are legal but almost never stored in data, so they are treated as invalid.
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.4.1
 */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TOP_LEVEL_DOMAIN = /^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/;

export function isValidEmail(value: string): boolean {
  const text = value.trim();
  if (text.length > 254) return false;
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return false;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (local.length > 64 || !LOCAL_PART.test(local)) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  const tld = labels[labels.length - 1] ?? '';
  return labels.every((label) => DOMAIN_LABEL.test(label)) && TOP_LEVEL_DOMAIN.test(tld);
}
