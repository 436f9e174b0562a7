"""The English templates of the errors a shop's data can meet on import (engine.data), each
with a code: joined into `engine.core.messages.TEMPLATES`, so the CLI prints exactly these
words and the studio's Import page says them in its own language."""

from __future__ import annotations

DATA_ERRORS = {
    # reading a file (engine.data.readers, .sources, .encodings)
    "no_such_file": "{path}: no such file; check the folder holds it",
    "file_empty_header": "{path}: the file is empty; export the table again with a header row",
    "file_empty": "{path}: the file is empty; export the table again",
    "bad_byte": "{file}: byte 0x{byte:02x} on line {line} is not valid {encoding} text (data "
                "row {row}); save the file as UTF-8 (e.g. 'Save as CSV UTF-8') {fix}",
    "bad_byte_options": "or pass the encoding it was saved in ({options})",
    "encoding_option": "--encoding {name}",
    "bad_byte_no_options": "or pass the encoding it was saved in with --encoding",
    "unknown_encoding": "unknown encoding {encoding!r}; use auto or a name such as utf-8, "
                        "utf-16, cp1252, latin-1 or gb18030",
    "unknown_encoding_of": "unknown encoding {encoding!r}; use one of {known} (or another "
                           "Python codec name)",
    "wrong_delimiter": "{path}: the header {header!r} looks {found}-separated, but this file "
                       "is read as {used}-separated; save it comma-separated (.csv) or "
                       "tab-separated (.tsv)",
    "delimiter_tab": "tab",
    "delimiter_semicolon": "semicolon",
    "delimiter_pipe": "pipe",
    "no_header_or_rows": "{path}: the file has no header or rows; export it again",
    "cannot_parse": "{path}: cannot be parsed as {used}-separated text ({error}); check the "
                    "delimiter and quoting",
    "not_parquet": "{path}: not a readable Parquet file ({error}); export it again",
    "missing_columns": "{source}: missing required {n:column|columns} {missing} (columns found: "
                       "{found}); rename {n:it|them} or pass --map {first}=<your column>",
    "no_common_encoding": "{path}: not UTF-8, and no common encoding reads it as real text "
                          "({tried}); save it as UTF-8 or pass --encoding",
    "none_decodes": "none decodes it",
    "bad_bom": "{path}: starts with a {name} byte-order mark but is not valid {name}; export "
               "it again",
    "decoded_twice": "{path}: valid UTF-8, but its text was already decoded wrongly before it "
                     "was saved (e.g. {wrong!r} for {right!r}); export it again from the "
                     "original source, or pass --encoding utf-8 to keep it as it is",
    "encoding_looks_wrong": "{path}: read as {encoding} the text looks wrong ({problem}); it "
                            "reads as real text in {name}: pass --encoding {better} (or auto)",
    "encoding_ambiguous": "{path}: the encoding is ambiguous ({shown}); pass the one it was "
                          "saved in: {codes}",
    "encoding_reads": "{name} reads {text!r}",
    "enc_cp1252": "Windows-1252 (Western European)",
    "enc_gb18030": "GB18030/GBK (Chinese)",
    "enc_cp1250": "Windows-1250 (Central European)",
    "enc_cp1251": "Windows-1251 (Cyrillic)",
    "enc_cp1253": "Windows-1253 (Greek)",
    "enc_cp1254": "Windows-1254 (Turkish)",
    "enc_cp1257": "Windows-1257 (Baltic)",
    "enc_big5": "Big5 (Traditional Chinese)",
    "enc_shift_jis": "Shift-JIS (Japanese)",
    "enc_euc_kr": "EUC-KR (Korean)",
    # why a file was read in its encoding, and why a reading looks wrong (engine.data.encodings)
    "encoding_evidence": "{encoding}: {evidence}",
    "encoding_by_format": "as the format specifies",
    "encoding_problem": "{name}: {problem}",
    "evidence_bom": "{name} byte-order mark",
    "evidence_utf16": "UTF-16 without a byte-order mark (NUL byte in every other position)",
    "evidence_ascii": "ASCII only (reads the same in every common encoding)",
    "evidence_utf8": "valid UTF-8 with non-ASCII text",
    "evidence_utf8_odd": "valid UTF-8 ({problem}, but no other encoding reads it better)",
    "evidence_only": "not UTF-8; reads as real text in {name} and in no other common encoding",
    "evidence_usual": "not UTF-8; reads as real text in {name}, the usual legacy encoding of "
                      "such exports, and no better in another ({others})",
    "evidence_would_read": "{name} would read {text!r}",
    "evidence_sibling": "ambiguous on its own ({alone}); {name} like {file} of the same import",
    "evidence_given": "given with --encoding",
    "evidence_given_odd": "given with --encoding ({problem})",
    "odd_control": "control, replacement or private-use characters",
    "odd_messy": "charset-normalizer finds it messy",
    "odd_latin_runs": "runs of accented letters and symbols (text of a multi-byte encoding)",
    "odd_halfwidth": "mostly half-width katakana (bytes of another encoding)",
    "odd_symbol_runs": "letters run together with symbols (text of a multi-byte encoding)",
    "odd_wedged_symbols": "symbols wedged between letters (text of a multi-byte encoding)",
    "odd_rare_cjk": "rare CJK characters wedged between Latin letters (a European text)",
    "odd_mixed_words": "{mixed} of {n} words mix Latin letters with another script",
    "odd_rare": "mostly rare characters",
    # which files a source holds (engine.data.sources, .importers, .order_exports)
    "no_such_path": "{path}: no such file or folder; check the path",
    "not_a_table_file": "{file}: not a table file ({suffixes}); export the table as CSV, TSV, "
                        "Parquet or a Merchant Center XML feed",
    "no_table_files": "{paths}: no table files (.csv, .tsv, .parquet, .xml) found; export the "
                      "products and orders first",
    "several_items_tables": "several items tables ({names}); give one items table per import",
    "several_events_tables": "several events tables ({names}); join several order exports of "
                             "one shop only (Shopify or WooCommerce), or give one events table",
    "order_lines_layout": "{file}: its columns differ from those of {first}; join order-lines "
                          "files of one layout only",
    "map_no_column": "column map {target}={source}: no column {source!r} in the files "
                     "(columns found: {found}); fix the --map entry",
    "unknown_layout": "{path}: unknown data format (found: {shown}); expected items.csv + "
                      "events.csv (generic), *.inter + *.item (RecBole) or u.data + u.item / "
                      "ratings.dat + movies.dat (MovieLens), or pass --format",
    "found_nothing": "nothing",
    "generic_needs_both": "{path}: no {stem}.csv, {stem}.tsv or {stem}.parquet found; the "
                          "generic layout needs both items and events tables",
    "several_atomic": "{path}: several {suffix} files ({names}); keep one per folder or name "
                      "it {name}{suffix}",
    "recbole_missing": "{path}: RecBole layout needs a *{missing} file next to the others; "
                       "export it with RecBole's atomic-file tools",
    "file_kind": "{file} ({kind})",
    "not_recognised_table": "not recognised: not a table with named columns",
    "not_recognised_columns": "not recognised: columns {columns}",
    "table_kind_merchant_center": "Google Merchant Center feed",
    "table_kind_shopify_products": "Shopify products",
    "table_kind_woocommerce_products": "WooCommerce products",
    "table_kind_items": "items table",
    "table_kind_shopify_orders": "Shopify orders",
    "table_kind_woocommerce_orders": "WooCommerce orders (Import Export Suite)",
    "table_kind_events": "events table",
    "table_kind_order_lines": "order lines (one row per product of an order)",
    "no_source": "no source given; pass a folder or the exported files",
    # cleaning the tables (engine.data.cleaning, .event_cleaning, .importing)
    "promo_not_flag": "{source}: column 'promo' has values that are not a yes/no flag (e.g. "
                      "{example!r}); use 1/0 or true/false",
    "duplicate_ids": "{source}: item {n:id|ids} {shown}{more} {n:appears|appear} more than "
                     "once with different titles; keep one row per item_id",
    "ids_more": " and {n} more",
    "bad_events_share": "{source}: {n_bad:,} of {total:,} events have {what} (e.g. "
                        "{examples}); {fix}",
    "what_bad_timestamps": "timestamps that do not parse",
    "fix_bad_timestamps": "use unix seconds or ISO-8601 like 2024-05-01T12:00:00",
    "what_unknown_items": "item ids that are not in the items table",
    "fix_unknown_items": "check that the items and events files belong together and that "
                         "item_id means the same column in both (--map item_id=...)",
    "unknown_event_types": "{source}: column 'event' has unknown {n:type|types} {unknown}{more}; "
                           "use one of {known} (or drop the column: every row is a purchase)",
    "weight_two_ways": "{source}: column 'weight' has values that read two ways (e.g. "
                       "{examples}); pass --decimal-mark . or --decimal-mark , to say which "
                       "mark is the decimal one",
    "weight_not_positive": "{source}: column 'weight' has values that are not positive "
                           "numbers (e.g. {examples}); fix them or drop the column to use event "
                           "weights",
    "no_events_left": "{source}: no usable events remain after cleaning; check the file and "
                      "the min-count settings",
    "no_events_after_cleaning": "{source}: no events are left after cleaning (see the "
                                "report); check that the orders refer to the products' ids or "
                                "SKUs",
    "dataset_name": "dataset name {name!r}: names holding '.tmp-' or '.old-' are kept for "
                    "folders being written or replaced; choose another",
    # shop exports (engine.data.merchant, .woocommerce, .faq)
    "feed_empty": "{path}: the file is empty; download the feed again",
    "feed_encoding": "{path}: cannot be read as {encoding} text ({error}); pass the encoding "
                     "the feed was saved in with --encoding",
    "feed_not_xml": "{path}: not well-formed XML at line {line}, column {column}; download "
                    "the feed again or fix that line",
    "feed_not_merchant": "{path}: XML without Merchant Center attributes (no elements in the "
                         "g: namespace {namespace}); Prism reads product feeds only",
    "feed_no_items": "{path}: the feed has no <item> or <entry> elements; export the products "
                     "again",
    "feed_missing": "{source}: the product feed lacks the {n:attribute|attributes} {missing}; "
                    "Merchant Center feeds need id, title and price",
    "feed_no_prices": "{source}: the feed has no prices (every price is empty); export it with "
                      "the price attribute filled, e.g. '15.00 USD'",
    "orders_no_lines": "{source}: the orders have no line items (line_item_1, ... are empty); "
                       "export the orders with their line items",
    "faq_missing_columns": "{source}: the FAQ has no {missing} {n:column|columns} (found: "
                           "{found}); an FAQ needs id, question and answer columns",
    "faq_no_file": "{path}: no such FAQ file; give faq.csv (id, question, answer)",
    "faq_drop_no_id": "missing id",
    "faq_drop_no_text": "missing question or answer",
    "faq_drop_repeated": "repeated id (first kept)",
    # a table's rows read = kept + dropped per reason (engine.data.reconcile)
    "count_line": "{table} ({source}): {read:,} read = {kept:,} kept{drops}{identifying}",
    "count_drop": " + {n:,} {reason}",
    "count_identifying": "; identifying columns: {columns}",
    "count_table_items": "items",
    "count_table_events": "events",
    "count_table_faq": "faq",
    "count_source_order_lines": "{names} (order lines)",
    # why rows were dropped, as the reconciliation names them (every reader in engine.data,
    # engine.events.transfer); `engine.data.reconcile.TableCount.drop` gives them their code
    "drop_unaccounted": "unaccounted",
    # what was done to a column that identifies shoppers (engine.data.privacy)
    "identifying_hashed": "e-mail addresses replaced by keyed ids",
    "identifying_dropped": "dropped: {kind}",
    "identifying_email": "e-mail",
    "identifying_phone": "phone",
    "identifying_name": "name",
    "identifying_address": "address",
    "identifying_ip": "IP address",
    "drop_rows_folded": "rows folded",
    "drop_shopify_variants": "variant and image rows folded into their product",
    "drop_woocommerce_variations": "variations folded into their product",
    "drop_feed_variants": "variants grouped into their product (item_group_id)",
    "drop_order_lines_listed": "order lines of a product already listed",
    "drop_lines_listed": "lines of a product already listed",
    "drop_orders_repeated": "orders repeated in another export",
    "drop_cancelled_orders": "cancelled orders",
    "drop_voided_orders": "voided orders",
    "drop_refunded_orders": "refunded orders",
    "drop_failed_orders": "failed orders",
    "drop_cancellations": "cancellations and credit notes",
    "drop_returns": "returns (negative quantity)",
    "drop_service_lines": "postage, fees, discounts and vouchers",
    "drop_no_customer": "lines without a customer",
    "drop_no_quantity": "quantity zero or unreadable",
    "drop_repeated_lines": "repeated lines of a product in one order (quantities added)",
    "drop_lines_in_another_file": "lines repeated in another file",
    "drop_no_item_id": "without an item id",
    "drop_duplicate_items": "duplicate item rows",
    "drop_markup_titles": "title only markup, no description",
    "drop_no_shopper_or_item": "without a shopper or item id",
    "drop_unreadable_timestamps": "unreadable timestamps",
    "drop_duplicate_events": "duplicate events",
    "drop_unknown_product": "product not in the catalogue",
    "drop_under_minimum": "under the minimum event counts",
    "drop_no_ids": "no shopper or item id",
    "drop_long_ids": "ids longer than {n} characters",
    "drop_bad_event_type": "event type not view/click/cart/purchase",
    "faq_none_left": "{source}: no FAQ entries are left after cleaning ({counts}); each row "
                     "needs an id, a question and an answer",
    # categories too few to tell products apart (engine.data.depth)
    "depth_found_one": "At category depth {depth} the catalogue has only 1 diversity category "
                       "({shown})",
    "depth_found": "At category depth {depth} the catalogue has only {n} diversity categories "
                   "({shown})",
    "depth_better": "{found}; depth {best} gives {n}: import again with --depth {best} (the "
                    "Import page's category depth) so diversity tells products apart",
    "depth_no_better": "{found}, and no depth gives more; add categories to the products (a "
                       "category, product_type or Product Category column) so diversity tells "
                       "products apart",
    # what the studio may read (engine.data.source_rules)
    "folder_needed": "type a folder below {roots}",
    "folder_outside": "{path}: the studio reads only folders below {roots} (links followed); "
                      "copy the exports there or ask the operator to add a root in {rules}",
    "folder_missing": "{path}: no such file or folder below {roots}",
    "folder_link_out": "{path}: {entry} links outside {roots}; remove the link or copy the "
                       "file in",
    "database_not_offered": "database {name!r} is not one the studio may read (offered: "
                            "{offered}); the operator names databases in {rules}",
    "parquet_unreadable": "{file}: not a readable Parquet file ({error}); export it again",
    "table_too_big": "{file}: {mb:,.1f} MB unpacked is over the studio's limit of "
                     "{limit:,.0f} MB per table; import it with `prism data import`",
    "table_too_long": "{file}: more than {rows:,} rows, the studio's limit per table; import "
                      "it with `prism data import`",
    # databases a studio reads with the operator's leave (engine.data.sql, .sql_guard)
    "query_table_items": "items",
    "query_table_events": "events",
    "query_flag_items": "--items-query",
    "query_flag_events": "--events-query",
    "query_empty": "{flag} is empty; give a SELECT that returns the {table} table",
    "sql_the_driver": "the driver",
    "sql_driver_missing": "database {url}: the driver for this URL is not installed ({name}); "
                          "install it with pip, e.g. pip install {package}",
    "sql_bad_url": "database {url}: cannot use this URL ({error}); check the dialect and "
                   "driver, e.g. sqlite:///shop.db or duckdb:///shop.duckdb",
    "sql_query_failed": "database {url}: the {label} query failed ({error}); fix the query",
    "sql_no_rows": "database {url}: the {label} query returned no rows; check its WHERE clause "
                   "and table",
    "sql_cannot_connect": "database {url}: cannot connect ({error}); check the host, the "
                          "credentials and that the database exists",
    "sql_unreadable": "the {label} query cannot be read as SQL ({error}); give one SELECT or "
                      "WITH … SELECT statement",
    "sql_statements": "the {label} query has {n} statements; give exactly one SELECT or WITH "
                      "… SELECT (imports only read)",
    "sql_not_query": "the {label} query is a {kind} statement; imports only read: give one "
                     "SELECT or WITH … SELECT",
    "sql_writes": "the {label} query contains {kind}; imports only read: give a SELECT that "
                  "writes nothing",
    "sql_kind": "database kind {kind!r}: Prism imports from {supported}, where it can open the "
                "database read-only; export the tables to one of those or to CSV/Parquet files",
}
