// Checks as the clerk types, the same rules the server applies (validate.h):
// the server still checks everything and its answer wins.
import { L } from "./labels";

export function residentIdProblem(id: string): string {
  if (!id) return "";
  const s = id.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(s)) return L.check.idFormat;
  const y = +s.slice(6, 10), m = +s.slice(10, 12), d = +s.slice(12, 14);
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d || birth > new Date())
    return L.check.birth;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += +s[i] * w[i];
  const check = "10X98765432"[sum % 11];
  return check === s[17] ? "" : L.check.checkDigit(check);
}
export function phoneProblem(p: string): string {
  if (!p) return "";
  if (!/^\+?[\d\- ]+$/.test(p)) return L.check.phoneChars;
  const digits = p.replace(/\D/g, "").length;
  return digits >= 5 && digits <= 20 ? "" : L.check.phoneLen;
}
