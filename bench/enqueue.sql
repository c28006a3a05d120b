-- pgbench peer: one pane.enqueue per transaction (what a client talking SQL pays)
SELECT pane.enqueue('peer', '{"n":1}');
