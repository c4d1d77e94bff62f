// Chinese names for what the API sends as codes. Labels only: the console
// decides nothing about the procedure.
import { Channel, Purpose, Role, Stage } from "./gen/xinfang/v1/case_pb";
import type { Timestamp } from "@bufbuild/protobuf/wkt";

export const channelText: Record<number, string> = {
  [Channel.VISIT]: "来访",
  [Channel.CALL]: "来电",
  [Channel.LETTER]: "来信",
  [Channel.ONLINE]: "网上",
};
export const purposeText: Record<number, string> = {
  [Purpose.CLAIM]: "求决",
  [Purpose.SUGGESTION]: "意见建议",
  [Purpose.APPEAL]: "申诉",
  [Purpose.ACCUSATION]: "揭发控告",
  [Purpose.OTHER]: "其他",
};
export const stageText: Record<number, string> = {
  [Stage.INTAKE]: "登记受理",
  [Stage.HANDLING]: "办理",
  [Stage.DECISION]: "出具意见",
  [Stage.EVALUATION]: "满意度评价",
  [Stage.REVIEW]: "复查",
  [Stage.RECHECK]: "复核",
  [Stage.FINAL]: "终结",
};
export const roleText: Record<number, string> = {
  [Role.INTAKE_CLERK]: "登记员",
  [Role.CASE_OFFICER]: "承办人",
  [Role.UNIT_HEAD]: "单位负责人",
  [Role.SUPERVISOR]: "督办人员",
  [Role.ADMINISTRATOR]: "管理员",
  [Role.AUDITOR]: "审计员",
  [Role.SERVICE]: "服务账户",
};
export const timerText: Record<string, string> = {
  intake_notice: "受理告知",
  handling: "办理期限",
  evaluation: "评价期限",
  review_request: "复查申请期",
  review_answer: "复查答复",
  recheck_request: "复核申请期",
  recheck_answer: "复核答复",
  notice_reply: "督办回复",
  objection: "异议期",
};

export function day(t?: Timestamp): string {
  if (!t) return "—";
  const d = new Date(Number(t.seconds) * 1000);
  return d.toLocaleDateString("zh-CN", { timeZone: "Asia/Shanghai" });
}
export function time(t?: Timestamp): string {
  if (!t) return "—";
  const d = new Date(Number(t.seconds) * 1000);
  return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}
// Whole days from today (Shanghai) to a YYYY-MM-DD last day; negative: overdue.
export function daysLeft(dueDate: string, now = new Date()): number {
  const today = now.toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  return Math.round((Date.parse(dueDate) - Date.parse(today)) / 86400000);
}

// A rate for people: 0 of 0 is "—", never 0 %.
export function pct(r?: { numerator: number; denominator: number }): string {
  if (!r || r.denominator === 0) return "—";
  return `${((100 * r.numerator) / r.denominator).toFixed(1)}%（${r.numerator}/${r.denominator}）`;
}
