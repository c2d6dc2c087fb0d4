// The dashboard's entry point: login, the header (views, namespace, theme, logout) and a hash router.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getJSON, session, setUnauthorizedHandler } from "./api.ts";
import { html } from "./html.ts";
import { CSS } from "./style.ts";
import { Fleet } from "./views/fleet.ts";
import { Workloads } from "./views/workloads.ts";
import { Pods } from "./views/pods.ts";
import { Events } from "./views/events.ts";
import { Network } from "./views/network.ts";
import { YamlView } from "./views/yaml.ts";
import { NamespaceSelect } from "./views/namespace.ts";

const VIEWS: [string, string][] = [
  ["fleet", "Fleet"],
  ["workloads", "Workloads"],
  ["pods", "Pods"],
  ["events", "Events"],
  ["network", "Services"],
];

function useHash(): string[] {
  const parse = () => (location.hash.replace(/^#\/?/, "") || "fleet").split("/").map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const f = () => setRoute(parse());
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return route;
}

function applyTheme(t: string) {
  document.documentElement.dataset.theme = t;
  localStorage.setItem("kubun.dashboard.theme", t);
}

function Login({ onLogin, message }: { onLogin: () => void; message?: string }) {
  const [token, setToken] = useState("");
  const [err, setErr] = useState(message ?? "");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return;
    setBusy(true);
    try {
      await getJSON("/api", t); // any authenticated user may read discovery: checks the token only
      session.login(t);
      onLogin();
    } catch (x: any) {
      setErr(x?.code === 401 ? "This token was not accepted (401 Unauthorized)." : x?.message ?? String(x));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="login" onSubmit=${submit}>
    <h2>kubun dashboard</h2>
    <p class="muted">Sign in with a bearer token: the admin token, or a ServiceAccount token from <code>kubectl create token NAME</code>. What you see and may change is decided by that token's RBAC. The token is kept in this tab's session storage only.</p>
    ${err && html`<div class="alert" role="alert">${err}</div>`}
    <textarea name="token" placeholder="Bearer token" autocomplete="off" value=${token} onInput=${(e: any) => setToken(e.target.value)}></textarea>
    <p><button class="primary" type="submit" disabled=${busy}>Sign in</button></p>
  </form>`;
}

function App() {
  const [authed, setAuthed] = useState(!!session.token());
  const [expired, setExpired] = useState<string | undefined>();
  const [ns, setNs] = useState(sessionStorage.getItem("kubun.dashboard.ns") ?? "");
  const [theme, setTheme] = useState(document.documentElement.dataset.theme ?? "light");
  const route = useHash();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      session.logout();
      setExpired("Your token was rejected (expired or revoked): sign in again.");
      setAuthed(false);
    });
  }, []);
  const chooseNs = (v: string) => {
    sessionStorage.setItem("kubun.dashboard.ns", v);
    setNs(v);
  };
  if (!authed) return html`<${Login} message=${expired} onLogin=${() => (setExpired(undefined), setAuthed(true))} />`;
  const [view, ...rest] = route;
  const logout = () => {
    session.logout();
    sessionStorage.removeItem("kubun.dashboard.ns");
    setAuthed(false);
  };
  const toggleTheme = () => {
    const t = theme === "dark" ? "light" : "dark";
    applyTheme(t);
    setTheme(t);
  };
  let body;
  if (view === "workloads") body = html`<${Workloads} ns=${ns} kind=${rest[0]} />`;
  else if (view === "pods") body = html`<${Pods} ns=${ns} logs=${rest[0] === "logs" ? rest.slice(1) : undefined} />`;
  else if (view === "events") body = html`<${Events} ns=${ns} />`;
  else if (view === "network") body = html`<${Network} ns=${ns} />`;
  else if (view === "yaml") body = html`<${YamlView} kind=${rest[0]} ns=${rest[1] === "_" ? "" : rest[1]} name=${rest[2]} />`;
  else body = html`<${Fleet} ns=${ns} />`;
  return html`<header>
      <h1>kubun</h1>
      <nav>${VIEWS.map(([id, label]) => html`<a href=${`#/${id}`} class=${view === id || (id === "fleet" && !VIEWS.some(([v]) => v === view) && view !== "yaml") ? "on" : ""}>${label}</a>`)}</nav>
      <span class="spacer"></span>
      <${NamespaceSelect} ns=${ns} onChange=${chooseNs} />
      <button type="button" onClick=${toggleTheme} title="Light or dark">${theme === "dark" ? "Light" : "Dark"}</button>
      <button type="button" onClick=${logout}>Log out</button>
    </header>
    <main>${body}</main>`;
}

const sheet = new CSSStyleSheet();
sheet.replaceSync(CSS);
document.adoptedStyleSheets = [sheet];
applyTheme(localStorage.getItem("kubun.dashboard.theme") ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
render(html`<${App} />`, document.getElementById("app")!);
