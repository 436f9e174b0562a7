"""Import: bring a shop's own data in — upload exports, pick a server folder or a database.

The page reads the source with the engine's importers (formats recognised by their headers),
proposes a column mapping the user can correct, shows the first rows and the cleaning report
before anything is written, then writes the dataset and hands it to the Training page.
Every bad input is one `st.error` saying what to fix; nothing here computes on its own.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import access, tables
from dashboard.components import uploader_css
from dashboard.i18n import name_rule, say, sentence, show_error, t, translatable
from dashboard.sample_box import NumberRange
from engine.core.config import DataConfig
from engine.core.errors import PrismError
from engine.core.messages import Listing, Message
from engine.data.depth import DEEPEST, depth_advice
from engine.data.faq import find_faq, is_faq_file, read_faq, write_faq
from engine.data.importing import (
    EVENT_TARGETS,
    ITEM_TARGETS,
    check_name,
    clean_source,
    import_source,
    map_source,
    preview_rows,
    propose_column_map,
    sql_source,
    stage_uploads,
)
from engine.data.numbers import DECIMAL_MARKS
from engine.data.privacy import identifying_words
from engine.data.source_rules import (
    check_limits,
    database_url,
    folder_files,
    load_rules,
    server_path,
)
from engine.data.sources import (
    ENCODINGS,
    Source,
    UnrecognisedTables,
    assemble,
    read_source,
)

SOURCE, MAP_PREFIX, IMPORTED = "imp_source", "imp_map_", "imp_imported"
PENDING, PREMAP_PREFIX = "imp_pending", "imp_pre_"  # files read but not all recognised
FAQ, FAQ_READ = "imp_faq", "imp_faq_read"  # the source's FAQ (table, count), if it has one
PREMAP_TARGETS = tuple(dict.fromkeys((*ITEM_TARGETS, *EVENT_TARGETS, "order_id")))
TRAIN_DATA = "train_data"  # the Training page's data selectbox
NO_COLUMN = ""
TABLE_TYPES = ["csv", "tsv", "txt", "parquet", "pq", "xml"]


def upload_limit_bytes() -> int:
    """The studio's upload limit (`server.maxUploadSize`, in MB)."""
    return int(st.get_option("server.maxUploadSize")) * 2**20


def read_uploads(encoding: str) -> Source | None:
    limit = upload_limit_bytes()
    st.caption(t("import.upload_limit", mb=limit // 2**20))
    st.markdown(uploader_css(), unsafe_allow_html=True)
    files = st.file_uploader(t("import.upload"), type=TABLE_TYPES, accept_multiple_files=True,
                             key="imp_files", help=t("import.upload_help"))
    if files:  # what the server holds: Read reads exactly these
        st.caption(t("import.ready", names=", ".join(f"`{f.name}`" for f in files)))
    if not st.button(t("import.read"), key="imp_read_upload", icon=":material/upload_file:"):
        return None
    rules = load_rules()
    with tempfile.TemporaryDirectory(prefix="prism-uploads-") as folder:
        try:
            saved = stage_uploads([(f.name, f.getvalue()) for f in files or []], Path(folder),
                                  limit)
            check_limits(saved, rules.max_bytes or limit, rules.max_rows)  # unpacked size, rows
            faqs = [path for path in saved if is_faq_file(path)]
            read_faq_beside(faqs[0] if faqs else None, encoding)
            tables = [path for path in saved if path not in faqs]
            return read_source(tables, encoding=encoding)  # tables are read into memory here
        except UnrecognisedTables:
            raise  # the page offers a mapping; it shows file names only
        except PrismError as exc:  # name the uploaded file, never the staging folder
            raise PrismError(without_staging(exc)) from None


STAGING = re.compile(r"(?:[^\s'\"(]*[/\\])?prism-uploads-[^/\\\s'\"]*[/\\]?")


def without_staging(said: object) -> object:
    """An error's words (a coded `Message` value by value) without the staging folder the
    uploads were read from: the file keeps the name it was uploaded with."""
    if isinstance(said, BaseException):
        said = said.args[0] if len(said.args) == 1 else str(said)
    if isinstance(said, Message):
        return Message(said.code, **{name: without_staging(value)
                                     for name, value in said.values.items()})
    if isinstance(said, Listing):
        return Listing([without_staging(part) for part in said.parts], said.joiner)
    return STAGING.sub("", said) if isinstance(said, str) else said


def show_import_error(exc: PrismError, key: str | None = None) -> None:
    """`show_error` for the page: the refusal in the active language, no staging folder."""
    show_error(PrismError(without_staging(exc)), key, icon=":material/error:")


def read_folder(encoding: str) -> Source | None:
    rules = load_rules()
    roots = ", ".join(f"`{root}`" for root in rules.roots)
    folder = st.text_input(t("import.folder"), key="imp_folder",
                           help=t("import.folder_help", roots=roots),
                           placeholder=str(rules.roots[0] / "myshop"))
    st.caption(t("import.folder_roots", roots=roots))
    if not st.button(t("import.read"), key="imp_read_folder", icon=":material/folder_open:"):
        return None
    if not folder.strip():
        raise PrismError(t("import.no_folder"))
    path = server_path(folder, rules)
    check_limits(folder_files(path), rules.max_bytes or upload_limit_bytes(), rules.max_rows)
    read_faq_beside(find_faq(path), encoding)
    return read_source([path], encoding=encoding)


def read_faq_beside(path: Path | None, encoding: str) -> None:
    """Read the FAQ that came with the tables (kept once the whole source reads well)."""
    st.session_state.pop(FAQ_READ, None)
    if path is not None:
        faq, count = read_faq(path, encoding)
        count.source = path.name  # never the staging folder
        st.session_state[FAQ_READ] = (faq, count)


def read_database() -> Source | None:
    rules = load_rules()
    st.caption(t("import.sql_help"))
    if not rules.databases:
        st.info(t("import.sql_none"), icon=":material/info:")
        return None
    name = st.selectbox(t("import.sql_db"), list(rules.databases), key="imp_sql_db")
    items_query = st.text_area(t("import.items_query"), key="imp_items_query",
                               placeholder="SELECT sku AS item_id, name AS title FROM products")
    events_query = st.text_area(t("import.events_query"), key="imp_events_query",
                                placeholder="SELECT customer AS user_id, sku AS item_id, "
                                            "created_at AS timestamp FROM orders")
    if not st.button(t("import.read"), key="imp_read_sql", icon=":material/database:"):
        return None
    return sql_source(database_url(name, rules), items_query, events_query)


def source_picker() -> bool:
    """Where the data comes from; a successful read replaces the page's current source.
    Whether a read was refused just now (its error is on the page)."""
    kinds = {"upload": t("import.kind_upload"), "folder": t("import.kind_folder"),
             "sql": t("import.kind_sql")}
    kind_col, encoding_col = st.columns([3, 1])
    kind = kind_col.radio(t("import.source"), list(kinds), format_func=kinds.get,
                          horizontal=True, key="imp_kind")
    encoding = encoding_col.selectbox(t("import.encoding"), ENCODINGS, key="imp_encoding",
                                      help=t("import.encoding_help"))
    readers = {"upload": lambda: read_uploads(encoding), "folder": lambda: read_folder(encoding),
               "sql": read_database}
    try:
        source = readers[kind]()
    except UnrecognisedTables as exc:
        forget()
        st.session_state[PENDING] = (exc.tables, exc.label, exc.found, exc.missing)
        return False
    except PrismError as exc:
        forget()
        show_import_error(exc)
        return True
    except OSError as exc:
        forget()
        st.error(t("import.os_error", error=exc.strerror or exc), icon=":material/error:")
        return True
    if source is not None:
        forget()
        st.session_state[SOURCE] = source
        st.session_state[FAQ] = st.session_state.pop(FAQ_READ, None)
    return False


def forget() -> None:
    """Drop the page's source, its mapping, its pending files and what it imported: after a
    failed read nothing of the previous source stays under the error, and a new source is
    imported before it can be trained on."""
    for key in [k for k in st.session_state if str(k).startswith((MAP_PREFIX, PREMAP_PREFIX))
                or k in (SOURCE, PENDING, IMPORTED, FAQ)]:
        del st.session_state[key]


def table_names(tables: list) -> str:
    """'events.csv (events table), …' in the studio's language."""
    return ", ".join(f"{table.path.name} ({t('import.table_kind.' + table.kind)})"
                     for table in tables)


def field_label(field: str) -> str:
    """A Prism field in words ("Shopper ID" for `user_id`); the raw name goes in the help."""
    return t(f"import.field.{field}")


def map_unrecognised(tables: list, label: str, found: str, missing: str = "") -> None:
    """Files read but not recognised: which column holds each Prism field (proposed from the
    headers), then read again. Every file recognised: say which table to add instead."""
    if missing and tables and all(table.kind for table in tables):
        st.warning(t(f"import.add_{missing}", found=table_names(tables)),
                   icon=":material/note_add:")
        return
    st.warning(t("import.unrecognised", found=say(found)), icon=":material/help:")
    columns = sorted({str(c) for table in tables for c in table.frame.columns})
    by_name = {column.strip().lower(): column for column in columns}
    options = [NO_COLUMN, *columns]
    cells = st.columns(4)
    for position, target in enumerate(PREMAP_TARGETS):
        cells[position % 4].selectbox(field_label(target), options, key=PREMAP_PREFIX + target,
                                      help=t("import.field_help", field=target),
                                      index=options.index(by_name.get(target, NO_COLUMN)),
                                      format_func=lambda c: c or t("import.none"))
    if not st.button(t("import.map_read"), key="imp_premap_read", icon=":material/join:"):
        return
    chosen = {target: st.session_state[PREMAP_PREFIX + target] for target in PREMAP_TARGETS
              if st.session_state.get(PREMAP_PREFIX + target)}
    try:
        source = assemble(tables, label, chosen)
    except UnrecognisedTables as exc:
        st.error(t("import.unrecognised_still", found=say(exc.found)), icon=":material/error:")
        return
    except PrismError as exc:
        show_import_error(exc)
        return
    forget()
    st.session_state[SOURCE] = source
    st.rerun()


def describe(source: Source) -> None:
    tables = ", ".join(f"`{table.path.name}` ({t('import.table_kind.' + table.kind)})"
                       if table.kind else f"`{table.path.name}`" for table in source.tables)
    fmt = f"import.fmt.{source.fmt}"
    st.success(t("import.detected", fmt=t(fmt) if translatable(fmt) else source.fmt,
                 encoding=say(source.encoding),
                 tables=tables or source.label), icon=":material/task_alt:")
    for name, evidence in source.evidence.items():
        st.caption(t("import.evidence", name=name, evidence=say(evidence)))
    items_col, events_col = st.columns(2)
    items_col.caption(t("import.items_preview", n=len(source.raw.items)))
    items_col.dataframe(preview_rows(source.raw.items), hide_index=True, key="imp_items_rows")
    events_col.caption(t("import.events_preview", n=len(source.raw.events)))
    events_col.dataframe(preview_rows(source.raw.events), hide_index=True,
                         key="imp_events_rows")


def _map_selects(table: str, targets: tuple[str, ...], columns: list[str],
                 proposal: dict[str, str]) -> dict[str, str]:
    chosen = {}
    st.caption(t(f"import.map_{table}"))
    cols = st.columns(len(targets))
    for col, target in zip(cols, targets, strict=True):
        options = [NO_COLUMN, *columns]
        key = f"{MAP_PREFIX}{table}_{target}"
        if key not in st.session_state:
            st.session_state[key] = proposal.get(target, NO_COLUMN)
        col.selectbox(field_label(target), options, key=key, help=t("import.field_help",
                                                                     field=target),
                      format_func=lambda c: c or t("import.none"))
        if st.session_state[key]:
            chosen[target] = st.session_state[key]
    return chosen


def mapping(source: Source) -> tuple[dict[str, str], dict[str, str]]:
    """Selectboxes per Prism column and table, preset with the proposal."""
    st.subheader(t("import.mapping"))
    st.caption(t("import.mapping_help"))
    items_proposal = propose_column_map(source.raw, "items")
    events_proposal = propose_column_map(source.raw, "events")
    return (_map_selects("items", ITEM_TARGETS, list(map(str, source.raw.items.columns)),
                         items_proposal),
            _map_selects("events", EVENT_TARGETS, list(map(str, source.raw.events.columns)),
                         events_proposal))


def report(dataset) -> None:  # noqa: ANN001 - engine.data.Dataset
    st.subheader(t("import.report"))
    sizes = st.columns(4)
    sizes[0].metric(t("import.n_items"), f"{dataset.n_items:,}")
    sizes[1].metric(t("import.n_users"), f"{dataset.n_users:,}")
    sizes[2].metric(t("import.n_events"), f"{len(dataset.events):,}")
    sizes[3].metric(t("import.n_fixed"), f"{dataset.report.total:,}",
                    help=t("import.n_fixed_help"))
    rows = tables.cleaning_frame(dataset.report.rows(), [t("import.rule"), t("import.count"),
                                                         t("import.action")])
    st.dataframe(rows, hide_index=True, key="imp_report")
    advice = depth_advice(dataset)
    if advice:
        st.warning(say(advice), icon=":material/category:")
    reconciliation(dataset)
    st.caption(t("import.clean_preview"))
    tables.show(st, preview_rows(dataset.items), hide_index=True, key="imp_clean_rows")


def reconciliation(dataset) -> None:  # noqa: ANN001 - engine.data.Dataset
    """Rows read = rows kept + rows dropped per named reason, one row per table."""
    st.caption(t("import.reconcile"))
    faq = st.session_state.get(FAQ)
    counts = [*dataset.reconciliation, *([faq[1]] if faq else [])]
    rows = pd.DataFrame(
        [(say(count.table_label()), say(count.source), count.read, count.kept,
          "; ".join(f"{say(reason)}: {n:,}" for reason, n in count.dropped.items()) or "—",
          "✓" if count.balanced else "✗") for count in counts],
        columns=[t("import.table"), t("import.file"), t("import.rows_read"),
                 t("import.rows_kept"), t("import.rows_dropped"), t("import.balanced")])
    st.dataframe(rows, hide_index=True, key="imp_reconcile")
    identifying = "; ".join(
        f"{say(count.table_label())}: {column} ({say(identifying_words(what))})"
        for count in dataset.reconciliation for column, what in count.identifying.items())
    if identifying:
        st.info(t("import.identifying", columns=identifying), icon=":material/shield_person:")


def category_depth() -> DataConfig:
    """The category depth diversity is measured at (the report says when it is too shallow)
    and the decimal mark that decides prices like 1,299."""
    depth_col, mark_col = st.columns([3, 1])
    depth = NumberRange(1, DEEPEST, t("import.depth")).box(
        depth_col, "imp_depth", DataConfig.category_depth, step=1,
        help=t("import.depth_help"))
    mark = mark_col.selectbox(t("import.decimal_mark"), DECIMAL_MARKS, key="imp_decimal",
                              help=t("import.decimal_mark_help"))
    return DataConfig(category_depth=int(depth), decimal_mark=mark)


def write_and_hand_over(source: Source, config: DataConfig) -> None:
    name_col, button_col = st.columns([3, 1])
    name = name_col.text_input(t("import.name"), key="imp_name", value="myshop",
                               help=t("import.name_help", rule=sentence(name_rule())))
    if button_col.button(t("import.import"), type="primary", key="imp_go",
                         icon=":material/download:"):
        try:
            access.gate().require(access.actor(), "import")
            with st.status(t("import.writing"), expanded=False) as status:
                dataset, path = import_source(source, check_name(name), config=config)
                if st.session_state.get(FAQ):
                    write_faq(path, *st.session_state[FAQ])
                status.update(label=t("import.written", name=path.name), state="complete")
        except PrismError as exc:
            st.session_state.pop(IMPORTED, None)  # "Train on it" only for what was imported
            show_import_error(exc)
            return
        st.session_state[IMPORTED] = path.name
        st.success(t("import.done", name=path.name, items=dataset.n_items,
                     events=len(dataset.events)), icon=":material/check_circle:")
    imported = st.session_state.get(IMPORTED)
    if imported and st.button(t("import.train"), key="imp_train", icon=":material/model_training:"):
        st.session_state[TRAIN_DATA] = imported
        st.switch_page("app_pages/training.py")


def main() -> None:
    st.title(t("import.title"))
    st.caption(t("import.caption"))
    if not access.may("import"):  # reading server folders or databases is an editor's too
        st.info(t("import.read_only", role=t(f"access.role.{access.actor().role}")))
        return
    refused = source_picker()
    if st.session_state.get(PENDING) is not None:
        map_unrecognised(*st.session_state[PENDING])
        return
    source = st.session_state.get(SOURCE)
    if source is None:
        if not refused:  # after a refused Read, the error says what to do, alone
            st.info(t("import.start"), icon=":material/info:")
        return
    describe(source)
    items_map, events_map = mapping(source)
    try:
        config = category_depth()
        mapped = map_source(source, items_map, events_map)
        dataset = clean_source(mapped, "preview", config=config)
    except PrismError as exc:
        show_import_error(exc, "import.fix_mapping")
        return
    report(dataset)
    write_and_hand_over(mapped, config)


main()
