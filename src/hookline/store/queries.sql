-- name: committer_alive
-- After a failed batch: does the writer's connection still answer? (the event at fault, or the database)
SELECT 1

-- name: committer_savepoint
-- A write handed to Committer.submit runs under its own savepoint: one that fails is undone alone.
SAVEPOINT hookline_work

-- name: committer_rollback_savepoint
ROLLBACK TO SAVEPOINT hookline_work

-- name: committer_release_savepoint
RELEASE SAVEPOINT hookline_work
