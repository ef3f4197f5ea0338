-- cube-versions: each node's last report as text (its sorted `component<TAB>version<TAB>commit
-- <TAB>build_time<TAB>source` lines), written in the same transaction as its rows, so the matrix
-- reads one row per node instead of one per component. Rows written before this have '' and the
-- matrix reads node_component_version for them.
ALTER TABLE node_version_report ADD COLUMN report TEXT NOT NULL DEFAULT '';
