"""The ``assistant`` command: ``ingest``, ``prepare-model``, ``serve``, ``mcp``, ``ask``, ``eval``,
``feedback export``, ``keys``.

Errors the user can fix (no index, bad manifest, model mismatch) are printed as one readable line
with exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from assistant.config import PROJECT_ROOT, get_settings


class UserError(Exception):
    """An error whose message tells the user what to do; printed without a traceback."""


def _cmd_prepare_model(args: argparse.Namespace) -> int:
    from assistant.index.embeddings import prepare_model

    settings = get_settings()
    started = time.perf_counter()
    embedder = prepare_model(settings)
    print(
        f"Embedding model ready: {embedder.model_id} on {embedder.runtime} (dimension {embedder.dimension}, "
        f"{time.perf_counter() - started:.1f} s)"
    )
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import run_ingest

    report = run_ingest(get_settings(), rebuild=args.rebuild, show_progress=not args.quiet)
    state = "already up to date" if report.up_to_date else "built"
    print(
        f"Index {report.build_id} {state}: {report.documents} documents, {report.chunks} chunks, "
        f"{report.programs} programs, {report.use_cases} use cases, {report.budget_lines} budget lines; "
        f"{report.seconds:.1f} s; {report.index_bytes / 1e6:.1f} MB in {report.build_dir}"
    )
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from assistant.web.serving import startup_report, with_bound_host

    settings = with_bound_host(get_settings(), args.host)
    report = startup_report(settings, args.host, args.allow_unauthenticated)  # before loading anything
    import uvicorn

    from assistant.web.app import create_app
    from assistant.web.http_guard import server_config
    from assistant.web.request_id import log_config

    print(f"Serving on http://{args.host}:{args.port}/ (API docs at /docs)")
    for line in report:
        print(line)
    config = server_config(
        create_app(settings), settings, args.host, args.port, log_level="info", log_config=log_config()
    )
    uvicorn.Server(config).run()
    return 0


def _cmd_mcp(args: argparse.Namespace) -> int:
    """The MCP server over stdio (the same tools as /mcp), on the local index."""
    from assistant.mcp_server.stdio import run_stdio

    run_stdio(get_settings())
    return 0


def _cmd_keys_new(args: argparse.Namespace) -> int:
    from assistant.web.api_keys import key_line, new_key

    key = new_key()
    line = key_line(key, args.name)
    print(f"key:  {key}")
    print(f"line: {line}")
    print(
        "Give the key to the client (it is shown only this once); append the line to "
        "ASSISTANT_API_KEYS_FILE and restart the server.",
        file=sys.stderr,
    )
    return 0


def _cmd_keys_hash(args: argparse.Namespace) -> int:
    import getpass

    from assistant.web.api_keys import key_line

    key = getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.readline()
    key = key.strip()
    if not key:
        raise UserError('no key given; pipe it in, e.g. `printf %s "$KEY" | assistant keys hash`')
    print(key_line(key, args.name))
    return 0


def _cmd_keys_check(args: argparse.Namespace) -> int:
    from assistant.web.api_keys import load_keyring

    keyring = load_keyring(get_settings())
    if not keyring.enabled:
        print("No API keys configured: /v1 is open (and `assistant serve` binds to loopback only).")
    else:
        print(f"{len(keyring.keys)} API key(s): {', '.join(keyring.labels)}")
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    from assistant.index.embeddings import EmbeddingModelError
    from assistant.index.store import IndexStateError
    from assistant.pipeline.service import AnswerService

    question = args.question.strip()
    if not question:
        raise UserError("the question is empty")
    settings = get_settings()
    try:
        service = AnswerService(settings)
    except (IndexStateError, EmbeddingModelError):
        raise
    except Exception as exc:  # a file the integrity check does not read in full (e.g. a BM25 array)
        from assistant.index.store import current_build_dir

        raise UserError(
            f"the index in {current_build_dir(settings)} could not be loaded ({type(exc).__name__}). "
            "Rebuild it with `assistant ingest --rebuild`."
        ) from exc
    result = service.answer(question)
    if args.json:
        print(json.dumps(result.model_dump(), ensure_ascii=False, indent=2))
        return 0
    print(result.answer)
    if result.citations:
        print("\n出典:")
        for c in result.citations:
            page = f" p.{c.page}" if c.page else ""
            print(
                f"[{c.id}] {c.title}{page} ({c.doc_id} L{c.line_start}-{c.line_end}) 「{' '.join(c.quote.split())[:80]}」"
            )
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from evals.dataset import CaseFileError
    from evals.runner import main as run_eval_main
    from evals.spreadsheet import is_sheet

    if args.template:
        return _eval_template(args.template)
    if args.composer:
        return _eval_composer(args)
    if is_sheet(args.dataset):
        return _eval_sheet(args)

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes:
        raise UserError("--modes is empty; use e.g. dense,bm25,hybrid")
    if not args.dataset.exists():
        raise UserError(f"no eval set at {args.dataset}")
    if not args.no_paraphrases and not args.paraphrases.exists():
        raise UserError(f"no paraphrase groups at {args.paraphrases} (or pass --no-paraphrases)")
    try:
        return run_eval_main(
            args.dataset,
            modes,
            args.report,
            args.url,
            args.api_key,
            get_settings(),
            not args.quiet,
            None if args.no_paraphrases else args.paraphrases,
        )
    except (CaseFileError, ValueError) as exc:
        raise UserError(str(exc)) from exc


def _eval_template(path: Path) -> int:
    """`assistant eval --template cases.xlsx|cases.csv`: a sheet with the columns and example rows."""
    from evals.spreadsheet import SHEET_SUFFIXES, write_template

    if path.suffix.lower() not in SHEET_SUFFIXES:
        raise UserError(f"--template writes .xlsx or .csv, not {path.suffix or 'a file without a suffix'}")
    if path.exists():
        raise UserError(f"{path.name} already exists; choose another name (nothing was overwritten)")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_template(path)
    print(f"Wrote {path}: fill in one question per row, then `assistant eval --dataset {path.name}`")
    return 0


def _eval_sheet(args: argparse.Namespace) -> int:
    """`assistant eval --dataset cases.xlsx|cases.csv`: each row a case, an HTML report (evals/sheet_run.py)."""
    import httpx

    from evals.dataset import CaseFileError
    from evals.sheet_run import main as sheet_main

    if not args.dataset.exists():
        raise UserError(f"no eval set at {args.dataset}")
    try:
        return sheet_main(args.dataset, args.report, args.url, args.api_key, get_settings(), not args.quiet)
    except CaseFileError as exc:
        raise UserError(str(exc)) from exc
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        hint = " (send a valid key with --api-key or ASSISTANT_EVAL_API_KEY)" if status == 401 else ""
        raise UserError(f"the server at --url answered {status}{hint}") from exc
    except httpx.HTTPError as exc:
        raise UserError(f"cannot reach the server at --url ({type(exc).__name__})") from exc


def _eval_composer(args: argparse.Namespace) -> int:
    """`assistant eval --composer NAME`: NAME side by side with the deterministic composer (evals/composers.py)."""
    from evals.composers import main as compare_main
    from evals.dataset import CaseFileError

    if args.url:
        raise UserError(
            "--composer runs in process; the API's composer is set where it runs (ASSISTANT_COMPOSER)"
        )
    if not args.dataset.exists():
        raise UserError(f"no eval set at {args.dataset}")
    try:
        return compare_main(
            args.dataset, args.composer, args.report, get_settings(), args.limit, not args.quiet
        )
    except (CaseFileError, ValueError) as exc:
        raise UserError(str(exc)) from exc


def _cmd_llm_server(args: argparse.Namespace) -> int:
    """Serve the local GGUF model over llama.cpp's own OpenAI-compatible HTTP server (for the 'openai'
    composer, or any client), until interrupted."""
    import threading

    from assistant.pipeline.compose.llm import LLMError, packaged_model, server_params

    settings = get_settings()
    try:
        import xllamacpp
    except ImportError as exc:
        raise UserError("xllamacpp is not installed (pip install -e .)") from exc
    try:
        model = settings.llm_model_path or packaged_model(settings.model_cache_dir)
    except LLMError as exc:
        raise UserError(str(exc)) from exc
    if not Path(model).is_file():
        raise UserError("the configured GGUF model file (ASSISTANT_LLM_MODEL_PATH) does not exist")
    params = server_params(xllamacpp, Path(model), settings, port=args.port)
    params.hostnames = [args.host]
    server = xllamacpp.Server(params)
    print(
        f"Serving {Path(model).name} at {server.listening_address}/v1 (OpenAI-compatible); Ctrl-C stops.",
        flush=True,
    )
    try:
        threading.Event().wait()
    finally:
        del server
    return 0


def _cmd_feedback_export(args: argparse.Namespace) -> int:
    from assistant.storage import Database, StorageUnavailable
    from assistant.storage.db import StorageConfigError
    from assistant.web.feedback import FeedbackStore

    settings = get_settings()
    try:
        database = Database.from_settings(settings)
    except StorageConfigError as exc:
        raise UserError(str(exc)) from None
    path = database.sqlite_path
    if path is not None and not path.exists():
        raise UserError(f"no feedback yet ({path} does not exist); rate answers with 👍/👎 in the chat UI")
    store = FeedbackStore(database)
    try:
        if args.out is None:
            count = store.export(sys.stdout, args.rating)
        else:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with args.out.open("w", encoding="utf-8") as out:
                count = store.export(out, args.rating)
    except StorageUnavailable:
        raise UserError(
            f"cannot reach the {database.dialect} database (ASSISTANT_DATABASE_URL); the log line above "
            "says why"
        ) from None
    finally:
        database.dispose()
    where = "stdout" if args.out is None else str(args.out)
    print(f"Exported {count} feedback case(s) to {where}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant", description="政策アシスタント (Japanese policy assistant)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="build the index from corpus/ (kept when nothing changed)")
    ingest.add_argument("--rebuild", action="store_true", help="force a fresh build")
    ingest.add_argument("--quiet", action="store_true", help="no progress bars")
    ingest.set_defaults(func=_cmd_ingest)

    prepare = sub.add_parser("prepare-model", help="convert/load the embedding model once (cached)")
    prepare.set_defaults(func=_cmd_prepare_model)

    serve = sub.add_parser("serve", help="serve the answer API (and the chat UI)")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="serve a non-loopback host without API keys (only when something else authenticates callers)",
    )
    serve.set_defaults(func=_cmd_serve)

    mcp = sub.add_parser("mcp", help="serve the MCP tools and documents over stdio (for agent clients)")
    mcp.set_defaults(func=_cmd_mcp)

    keys = sub.add_parser("keys", help="API keys: make one, hash one, check the configured ones")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_new = keys_sub.add_parser("new", help="generate a key; print it once and its keys-file line")
    keys_new.add_argument("--name", help="label for the logs, e.g. helpdesk-a")
    keys_new.set_defaults(func=_cmd_keys_new)
    keys_hash = keys_sub.add_parser("hash", help="read a key from stdin; print its keys-file line")
    keys_hash.add_argument("--name", help="label for the logs, e.g. helpdesk-a")
    keys_hash.set_defaults(func=_cmd_keys_hash)
    keys_check = keys_sub.add_parser("check", help="validate the configured keys; list their labels")
    keys_check.set_defaults(func=_cmd_keys_check)

    ask = sub.add_parser("ask", help="answer one question from the command line")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the API's JSON")
    ask.set_defaults(func=_cmd_ask)
    # The eval set's files by path: serving and asking never import the evals package.
    evals_dir = PROJECT_ROOT / "evals"

    evaluate = sub.add_parser("eval", help="run the eval set; exit 1 when a release threshold fails")
    evaluate.add_argument(
        "--dataset",
        type=Path,
        default=evals_dir / "cases.jsonl",
        help="JSONL eval cases, or a spreadsheet (.xlsx/.csv) with Japanese headers: 質問, 会話履歴, 含むべき事業, "
        "含んではいけない事業, 含むべき文字列, 回答不能 (docs/integrations.md)",
    )
    evaluate.add_argument(
        "--template",
        type=Path,
        help="write a spreadsheet (.xlsx or .csv) with the columns and example rows, then stop",
    )
    evaluate.add_argument("--modes", default="hybrid", help="comma-separated: dense,bm25,hybrid")
    evaluate.add_argument(
        "--report",
        type=Path,
        help="write the JSON report here (and a .md beside it); for a spreadsheet, the HTML report "
        "(default: <dataset>-report.html beside it)",
    )
    evaluate.add_argument("--url", help="evaluate a deployed API instead of the local index")
    evaluate.add_argument("--api-key", default=os.environ.get("ASSISTANT_EVAL_API_KEY"), help="for --url")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.add_argument(
        "--paraphrases",
        type=Path,
        default=evals_dir / "paraphrases.jsonl",
        help="JSONL paraphrase groups (consistency)",
    )
    evaluate.add_argument(
        "--no-paraphrases", action="store_true", help="skip the paraphrase-consistency eval"
    )
    evaluate.add_argument(
        "--composer",
        help="run the hybrid answers through this composer (openai, local) beside the deterministic one",
    )
    evaluate.add_argument(
        "--limit", type=int, help="with --composer: at most N cases, spread over categories"
    )
    evaluate.set_defaults(func=_cmd_eval)

    llm = sub.add_parser(
        "llm-server", help="serve the local GGUF model over an OpenAI-compatible API (llama.cpp's server)"
    )
    llm.add_argument("--host", default="127.0.0.1")
    llm.add_argument("--port", type=int, default=8081)
    llm.set_defaults(func=_cmd_llm_server)

    feedback = sub.add_parser("feedback", help="👍/👎 feedback collected by the chat UI")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", required=True)
    export = feedback_sub.add_parser("export", help="write the feedback as eval cases (JSONL)")
    export.add_argument("--out", type=Path, help="JSONL file to write (default: stdout)")
    export.add_argument("--rating", choices=["up", "down"], help="only 👍 (up) or only 👎 (down)")
    export.set_defaults(func=_cmd_feedback_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError

    from assistant.index.embeddings import EmbeddingModelError
    from assistant.index.store import IndexStateError
    from assistant.storage.db import StorageConfigError
    from assistant.web.api_keys import ApiKeyConfigError
    from assistant.web.serving import UnsafeBindError
    from ingest.documents import CorpusError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (
        UserError,
        CorpusError,
        IndexStateError,
        EmbeddingModelError,
        ApiKeyConfigError,
        UnsafeBindError,
        StorageConfigError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # a bad ASSISTANT_* variable
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid setting: {problems}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
