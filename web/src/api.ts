// The console's only way to the server: the Connect clients generated from
// proto/ (src/gen), on the page's own origin, with the session token.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { reactive } from "vue";
import { AdminService, type Account } from "./gen/xinfang/v1/admin_pb";
import { CaseworkService } from "./gen/xinfang/v1/casework_pb";
import { IntakeService } from "./gen/xinfang/v1/intake_pb";
import { PublicService } from "./gen/xinfang/v1/public_pb";
import { CaseQueryService } from "./gen/xinfang/v1/query_pb";
import { SupervisionService } from "./gen/xinfang/v1/supervision_pb";
import { L } from "./labels";

const KEY = "xinfang.session";

export const session = reactive<{ token: string; account: Account | null }>({
  token: sessionStorage.getItem(KEY) ?? "",
  account: null,
});

export function setSession(token: string) {
  session.token = token;
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

const auth: Interceptor = (next) => async (req) => {
  if (session.token) req.header.set("Authorization", `Bearer ${session.token}`);
  try {
    return await next(req);
  } catch (e) {
    // An ended session sends the person back to sign in (their input stays on the page).
    if (e instanceof ConnectError && e.code === Code.Unauthenticated && session.token) {
      setSession("");
      session.account = null;
    }
    throw e;
  }
};

const transport = createConnectTransport({
  baseUrl: window.location.origin,
  interceptors: [auth],
  useBinaryFormat: false,
});

export const admin = createClient(AdminService, transport);
export const intake = createClient(IntakeService, transport);
export const casework = createClient(CaseworkService, transport);
export const query = createClient(CaseQueryService, transport);
export const supervision = createClient(SupervisionService, transport);
// The petitioner's status page: no token (the query code is the credential).
export const publicStatus = createClient(PublicService, transport);

// What went wrong, for a person: the fields the server named
// (google.rpc.BadRequest, docs/api.md §12) and a sentence in the chosen language.
export interface Problem {
  code: Code | null;
  message: string;
  fields: Record<string, string>;
  conflict: boolean; // the case changed under us: reload
}

function codeText(c: Code): string {
  const t = L.code;
  const m: Partial<Record<Code, string>> = {
    [Code.InvalidArgument]: t.invalid,
    [Code.Unauthenticated]: t.unauthenticated,
    [Code.PermissionDenied]: t.denied,
    [Code.NotFound]: t.notFound,
    [Code.AlreadyExists]: t.exists,
    [Code.FailedPrecondition]: t.precondition,
    [Code.Aborted]: t.aborted,
    [Code.ResourceExhausted]: t.exhausted,
    [Code.Unavailable]: t.unavailable,
  };
  return m[c] ?? t.other;
}

export function problem(e: unknown): Problem {
  const err = ConnectError.from(e);
  const fields: Record<string, string> = {};
  for (const d of err.details) {
    if ("type" in d && d.type === "google.rpc.BadRequest" && d.debug) {
      const v = (d.debug as { fieldViolations?: { field: string; description: string }[] })
        .fieldViolations;
      for (const f of v ?? []) fields[f.field] = f.description;
    }
  }
  const prefix = codeText(err.code);
  return {
    code: err.code,
    message: `${prefix}${L.colon}${err.rawMessage}`,
    fields,
    conflict: err.code === Code.Aborted,
  };
}
