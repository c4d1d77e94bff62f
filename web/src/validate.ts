// Checks as the clerk types, the same rules the server applies (validate.h):
// the server still checks everything and its answer wins.
export function residentIdProblem(id: string): string {
  if (!id) return "";
  const s = id.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(s)) return "应为18位：17位数字加1位校验码（数字或X）";
  const y = +s.slice(6, 10), m = +s.slice(10, 12), d = +s.slice(12, 14);
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d || birth > new Date())
    return "出生日期无效";
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += +s[i] * w[i];
  const check = "10X98765432"[sum % 11];
  return check === s[17] ? "" : `校验码应为 ${check}，请核对`;
}
export function phoneProblem(p: string): string {
  if (!p) return "";
  if (!/^\+?[\d\- ]+$/.test(p)) return "只能包含数字、+、- 和空格";
  const digits = p.replace(/\D/g, "").length;
  return digits >= 5 && digits <= 20 ? "" : "应为5至20位数字";
}
