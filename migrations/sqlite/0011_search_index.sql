-- Search: a trigram full-text index (FTS5) over each repository's name,
-- description and namespace name, so a "contains" search of 3 or more
-- characters reads the index instead of scanning every repository. Kept in
-- step with `repositories` by triggers; rowid = repositories.id.
CREATE VIRTUAL TABLE repo_search USING fts5(name, description, namespace, tokenize = 'trigram');

INSERT INTO repo_search (rowid, name, description, namespace)
    SELECT r.id, r.name, r.description, n.name
    FROM repositories r JOIN namespaces n ON n.id = r.namespace_id;

CREATE TRIGGER repo_search_insert AFTER INSERT ON repositories BEGIN
    INSERT INTO repo_search (rowid, name, description, namespace)
    VALUES (new.id, new.name, new.description,
            (SELECT name FROM namespaces WHERE id = new.namespace_id));
END;

CREATE TRIGGER repo_search_update AFTER UPDATE OF name, description, namespace_id ON repositories BEGIN
    DELETE FROM repo_search WHERE rowid = old.id;
    INSERT INTO repo_search (rowid, name, description, namespace)
    VALUES (new.id, new.name, new.description,
            (SELECT name FROM namespaces WHERE id = new.namespace_id));
END;

CREATE TRIGGER repo_search_delete AFTER DELETE ON repositories BEGIN
    DELETE FROM repo_search WHERE rowid = old.id;
END;
