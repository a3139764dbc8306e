"""Mock member registries for HTTP benchmarks: one nginx master, one ``listen`` port per member.

Each healthy member serves, as static files, the exact bytes the OOAPI sandbox
(``adapters.connectors.sandbox``) would answer for one learner: the ``Service`` document, the ``/persons``
page that an ESI search finds, the learner's ``course-offering-associations`` page (with
``expand=course_offering``, as the connector asks), and the offering and course of every association.
The bodies are produced by the sandbox's own request handlers (called with a mocked request), so nginx
returns them byte for byte; ``check_bodies`` fetches them back over HTTP and compares. nginx matches
``location =`` on the path only, so ``/persons`` answers the one matching page whatever the query string.

Faulty members (performance.md): ``slow`` (``echo_sleep``, from Debian's ``libnginx-mod-http-echo``),
``hung`` (sleeps an hour: far past any deadline), ``refused`` (a port nothing listens on), ``malformed``
(``200 not json``) and ``unavailable`` (``503`` with a problem body). Every member's token endpoint answers
a fixed bearer token (the mock does not check it), except a refused member's, which refuses too.

The same nginx also serves an OTLP/HTTP sink (``POST /v1/traces`` answered 200 and dropped), and a second
nginx can act as a reverse proxy to one member (the floor of a proxy hop). Both run as the current user
with their own prefix, pid file, logs and temp directories, in their own process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
from aiohttp.test_utils import make_mocked_request
from joserfc.jwk import OKPKey

from adapters.connectors.sandbox import BearerVerifier, Sandbox, SandboxData, SharedLearner
from bench.harness import free_port, process_cpu_seconds

__all__ = [
    "MemberKind",
    "MemberSite",
    "MemberSpec",
    "NginxMembers",
    "free_port",
    "nginx_members",
    "nginx_proxy",
    "require_nginx",
]

HUNG_SECONDS = 3600
MemberKind = Literal["ok", "slow", "hung", "refused", "malformed", "unavailable"]
TOKEN_BODY = '{"access_token":"x","token_type":"Bearer","expires_in":3600}'
PROBLEM_503 = '{"type":"about:blank","status":503,"title":"Service Unavailable"}'
PAGE_QUERY = "pageSize=100&pageNumber=1"  # what the OOAPI connector asks for (its page_size)
_MODULE_DIRS = ("/usr/lib/nginx/modules", "/usr/share/nginx/modules")


def require_nginx() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is None:
        raise SystemExit("this benchmark needs nginx: apt-get install -y nginx-light libnginx-mod-http-echo")
    return found


def _echo_module() -> str | None:
    for directory in _MODULE_DIRS:
        for path in glob.glob(os.path.join(directory, "ngx_http_echo_module.so")):
            return path
    return None


@dataclass(frozen=True, slots=True)
class MemberSpec:
    member_id: str
    framework: str
    kind: MemberKind = "ok"


@dataclass(slots=True)
class MemberSite:
    """One mock member: its port, the learner's ``personId`` there, and the bodies it serves by path."""

    spec: MemberSpec
    port: int
    person_ids: dict[str, str] = field(default_factory=dict)  # ESI -> personId
    awarded: int = 0  # awarded credentials of each learner
    bodies: dict[str, bytes] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/oauth/token"

    def calls_per_lookup(self, linked: bool) -> int:
        """Member GETs of one lookup once the connector keeps the courses: (``/persons`` if not linked,)
        the associations page, with each offering expanded in it. The first lookups also GET each course."""
        return (0 if linked else 1) + 1


def _render(
    data: SandboxData, base_url: str, esis: list[str]
) -> tuple[dict[str, str], int, dict[str, bytes]]:
    """Each learner's ``personId``, the awarded count and every body a lookup reads (``/persons`` for the
    first learner only), from the sandbox's own handlers."""
    verifier = BearerVerifier(
        issuer="https://bench.invalid",
        audience="bench",
        jwks={"keys": [OKPKey.generate_key("Ed25519").as_dict(private=False)]},
    )
    sandbox = Sandbox(data, verifier)
    sandbox.base_url = base_url
    persons = {esi: data.persons_by_esi(esi)[0] for esi in esis}
    awarded = {esi: [a for a in data.associations_of(p.person_id) if a.passed] for esi, p in persons.items()}
    counts = {len(a) for a in awarded.values()}
    assert len(counts) == 1, "every learner has the same number of awarded credentials"

    async def render() -> dict[str, bytes]:
        out: dict[str, bytes] = {}

        async def body(path: str, handler: str, query: str = "", **match: str) -> None:
            target = f"{path}?{query}" if query else path
            request = make_mocked_request("GET", target, match_info=match)
            response = await getattr(sandbox, handler)(request)
            assert response.status == 200, (path, response.status)
            out[path] = bytes(response.body)

        await body("/", "_service")
        await body("/persons", "_persons", f"filter_query[otherCodes.code][in]={esis[0]}&{PAGE_QUERY}")
        for _esi, person in persons.items():
            await body(
                f"/persons/{person.person_id}/course-offering-associations",
                "_person_associations",
                f"{PAGE_QUERY}&expand=course_offering",
                personId=person.person_id,
            )
        for association in (a for group in awarded.values() for a in group):
            await body(
                f"/course-offerings/{association.offering_id}",
                "_offering",
                courseOfferingId=association.offering_id,
            )
            await body(f"/courses/{association.course_id}", "_course", courseId=association.course_id)
        return out

    ids = {esi: p.person_id for esi, p in persons.items()}
    return ids, counts.pop(), asyncio.run(render())


def _nginx_main(root: Path, servers: str, *, echo: bool, workers: int = 1) -> str:
    temp = root / "tmp"
    temp.mkdir(exist_ok=True)
    load = f"load_module {_echo_module()};\n" if echo else ""
    # As root, nginx's workers would become "nobody" and could not read the private temp directory.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    return f"""{load}{user}worker_processes {workers};
pid {root / "nginx.pid"};
error_log {root / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {temp / "body"};
  proxy_temp_path {temp / "proxy"};
  fastcgi_temp_path {temp / "fastcgi"};
  uwsgi_temp_path {temp / "uwsgi"};
  scgi_temp_path {temp / "scgi"};
  types {{ }}
  default_type application/json;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
{servers}
}}
"""


def _token_location() -> str:
    return f"    location = /oauth/token {{ return 200 '{TOKEN_BODY}'; }}\n"


def _server(site: MemberSite, files: Path, sleep_s: float) -> str:
    kind = site.spec.kind
    head = f"  server {{\n    listen 127.0.0.1:{site.port};\n" + _token_location()
    if kind == "ok":
        locations = []
        for index, path in enumerate(sorted(site.bodies)):
            name = f"{index}.json"
            (files / name).write_bytes(site.bodies[path])
            if path == "/":  # a URI ending in "/" is a directory to nginx: serve the file under a name
                locations.append(f"    location = / {{ rewrite ^ /_/{name} last; }}\n")
                locations.append(f"    location = /_/{name} {{ internal; alias {files / name}; }}\n")
            else:
                locations.append(f"    location = {path} {{ alias {files / name}; }}\n")
        body = "".join(locations) + "    location / { return 404; }\n"
    elif kind in ("slow", "hung"):
        # A hung member must not answer before any deadline does: not a lookup's (at most 30 s) and not
        # the breaker's half-open probe (2 s), which a member that answered after ``sleep_s`` would pass.
        sleep = sleep_s if kind == "slow" else HUNG_SECONDS
        body = f"    location / {{ echo_sleep {sleep:g}; echo '{{}}'; }}\n"
    elif kind == "malformed":
        body = "    location / { return 200 'not json'; }\n"
    elif kind == "unavailable":
        body = f"    location / {{ default_type application/problem+json; return 503 '{PROBLEM_503}'; }}\n"
    else:
        raise ValueError(kind)
    return head + body + "  }\n"


def _start(nginx: str, root: Path, conf: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [nginx, "-p", str(root), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # fast shutdown: hung requests are not waited for
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _wait_listening(ports: list[int], proc: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 10
    for port in ports:
        while True:
            if proc.poll() is not None:
                error = (root / "error.log").read_text() if (root / "error.log").exists() else ""
                raise RuntimeError(
                    f"nginx exited: {proc.stderr.read().decode() if proc.stderr else ''} {error}"
                )
            with socket.socket() as s, contextlib.suppress(OSError):
                s.connect(("127.0.0.1", port))
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx is not listening on {port}")
            time.sleep(0.05)


@dataclass(slots=True)
class NginxMembers:
    sites: dict[str, MemberSite]
    sink_port: int
    proc: subprocess.Popen[bytes]

    @property
    def otlp_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.sink_port}"

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)

    def check_bodies(self) -> int:
        """Fetch every served body back and compare it byte for byte with the sandbox's; the count."""
        checked = 0
        with httpx.Client(timeout=5) as client:
            for site in self.sites.values():
                for path, expected in site.bodies.items():
                    query = PAGE_QUERY if path != "/" else ""
                    got = client.get(f"{site.base_url}{path}", params=httpx.QueryParams(query))
                    ctype = got.headers.get("content-type")
                    if got.status_code != 200 or got.content != expected or ctype != "application/json":
                        where = f"{site.spec.member_id} {path} (port {site.port})"
                        what = (
                            f"status {got.status_code}, {ctype}, {len(got.content)} of {len(expected)} bytes"
                        )
                        server = got.headers.get("server")
                        raise RuntimeError(
                            f"{where}: nginx differs from the sandbox: {what}, server {server}"
                        )
                    checked += 1
        return checked


@contextlib.contextmanager
def nginx_members(
    specs: list[MemberSpec], learners: list[SharedLearner], *, sleep_s: float, seed: str = "bench"
) -> Iterator[NginxMembers]:
    """One nginx serving every member of ``specs`` (each on its own port) plus the OTLP sink."""
    nginx = require_nginx()
    needs_echo = any(s.kind in ("slow", "hung") for s in specs)
    if needs_echo and _echo_module() is None:
        raise SystemExit("slow members need the echo module: apt-get install -y libnginx-mod-http-echo")
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(_tempdir("cgw-nginx-members-")))
        files = root / "bodies"
        files.mkdir()
        sites: dict[str, MemberSite] = {}
        servers = []
        for spec in specs:
            site = MemberSite(spec, free_port())
            if spec.kind == "ok":
                data = SandboxData.generate(
                    spec.member_id, spec.framework, seed, learners=6, courses=4, shared=tuple(learners)
                )
                esis = [learner.esi for learner in learners]
                site.person_ids, site.awarded, site.bodies = _render(data, site.base_url, esis)
                member_files = files / spec.member_id
                member_files.mkdir()
                servers.append(_server(site, member_files, sleep_s))
            elif spec.kind != "refused":
                servers.append(_server(site, files, sleep_s))
            sites[spec.member_id] = site
        sink = free_port()
        servers.append(
            f"  server {{\n    listen 127.0.0.1:{sink};\n    client_body_buffer_size 1m;\n"
            "    location / { return 200 ''; }\n  }\n"
        )
        conf = root / "nginx.conf"
        conf.write_text(_nginx_main(root, "".join(servers), echo=needs_echo))
        proc = _start(nginx, root, conf)
        stack.callback(_stop, proc)
        listening = [s.port for s in sites.values() if s.spec.kind != "refused"]
        _wait_listening([*listening, sink], proc, root)
        yield NginxMembers(sites, sink, proc)


@dataclass(slots=True)
class Proxy:
    base: str
    proc: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)


@contextlib.contextmanager
def nginx_proxy(upstream_port: int) -> Iterator[Proxy]:
    """A second nginx (one worker) as a keep-alive reverse proxy to one member: the proxy-hop floor."""
    nginx = require_nginx()
    with _tempdir("cgw-nginx-proxy-") as tmp:
        root = Path(tmp)
        port = free_port()
        server = f"""  upstream member {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://member;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
"""
        conf = root / "nginx.conf"
        conf.write_text(_nginx_main(root, server, echo=False))
        proc = _start(nginx, root, conf)
        try:
            _wait_listening([port], proc, root)
            yield Proxy(f"http://127.0.0.1:{port}", proc)
        finally:
            _stop(proc)


EG_GATEWAY = """http:
  port: {port}
  host: 127.0.0.1
apiEndpoints:
  api:
    host: '*'
    paths: '/*'
serviceEndpoints:
  member:
    url: 'http://127.0.0.1:{upstream}'
policies:
  - proxy
pipelines:
  default:
    apiEndpoints:
      - api
    policies:
      - proxy:
          - action:
              serviceEndpoint: member
              changeOrigin: true
"""
EG_SYSTEM = """db:
  redis:
    emulate: true
    namespace: EG
crypto:
  cipherKey: benchKey
  algorithm: aes256
  saltRounds: 10
session:
  secret: bench
  resave: false
  saveUninitialized: false
accessTokens:
  timeToExpiry: 7200000
refreshTokens:
  timeToExpiry: 7200000
authorizationCodes:
  timeToExpiry: 300000
"""
EG_SERVER = "require('express-gateway')().load(require('path').join(__dirname, 'config')).run();\n"


def install_express_gateway(directory: Path, timeout: float = 240) -> str | None:
    """``npm install express-gateway`` into ``directory`` (kept between runs); None, or why it failed."""
    if (directory / "node_modules" / "express-gateway" / "package.json").exists():
        return None
    if shutil.which("npm") is None or shutil.which("node") is None:
        return "node/npm not installed"
    directory.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "express-gateway"],
            cwd=directory,
            check=True,
            capture_output=True,
            timeout=timeout,
            start_new_session=True,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return f"npm install express-gateway failed: {type(exc).__name__}"
    return None


@contextlib.contextmanager
def express_gateway(install_dir: Path, upstream_port: int) -> Iterator[Proxy]:
    """express-gateway (npm) as a plain proxy to one member, one Node process."""
    with _tempdir("cgw-eg-") as tmp:
        root = Path(tmp)
        (root / "config").mkdir()
        port = free_port()
        admin = free_port()
        gateway_yml = EG_GATEWAY.format(port=port, upstream=upstream_port)
        gateway_yml += f"admin:\n  port: {admin}\n  host: 127.0.0.1\n"
        (root / "config" / "gateway.config.yml").write_text(gateway_yml)
        (root / "config" / "system.config.yml").write_text(EG_SYSTEM)
        # The user, application and credential schemas it loads at start (``eg gateway create`` copies them).
        shutil.copytree(
            install_dir / "node_modules" / "express-gateway" / "lib" / "config" / "models",
            root / "config" / "models",
        )
        (root / "server.js").write_text(EG_SERVER)
        env = {**os.environ, "NODE_PATH": str(install_dir / "node_modules"), "LOG_LEVEL": "error"}
        env["NODE_ENV"] = "production"
        proc = subprocess.Popen(
            ["node", str(root / "server.js")],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError("express-gateway exited at start")
                with socket.socket() as s, contextlib.suppress(OSError):
                    s.connect(("127.0.0.1", port))
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("express-gateway did not start")
                time.sleep(0.1)
            yield Proxy(f"http://127.0.0.1:{port}", proc)
        finally:
            _stop(proc)


@contextlib.contextmanager
def _tempdir(prefix: str) -> Iterator[str]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield tmp
