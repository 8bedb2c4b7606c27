import type { Knex } from 'knex';
import { runSql } from './sql.js';

/**
 * What the live order stream needs (API.md "Live orders"):
 *
 * - `order_events.feed_seq`: the order in which events became visible. Event ids come from an identity
 *   taken at INSERT, but transactions commit in any order, so a reader that has seen id 105 may later
 *   see 104 commit: resuming "after 105" would skip it. `feed_seq` is taken at COMMIT instead, by a
 *   deferred trigger holding a per-restaurant advisory lock until the commit ends, so within a
 *   restaurant a higher `feed_seq` always commits after a lower one and "everything after seq N" misses
 *   nothing. The lock is the last one the transaction takes (deferred triggers run at COMMIT), so it
 *   cannot take part in a deadlock; NOTIFY already serialises committing transactions in Postgres, so
 *   it costs next to nothing on top.
 * - The same trigger sends `NOTIFY order_events, '<restaurant>:<event>:<order>:<customer>'` in the
 *   transaction of the change: every instance's listener hears of it at commit, and no module code has
 *   to remember to announce an event.
 * - `stream_tickets`: single-use 60 s tickets for EventSource, which cannot send an Authorization header.
 *   Only a hash of the ticket is stored; the ticket names its restaurant, so it is found by primary key.
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE SEQUENCE order_events_feed_seq AS bigint;
    ALTER TABLE order_events ADD COLUMN feed_seq bigint;
    -- Events already committed are in a settled order: their ids.
    UPDATE order_events SET feed_seq = id;
    SELECT setval('order_events_feed_seq', coalesce((SELECT max(id) FROM order_events), 0) + 1, false);
    CREATE UNIQUE INDEX order_events_feed ON order_events (restaurant_id, feed_seq);

    CREATE FUNCTION order_events_publish() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      owner bigint;
    BEGIN
      -- Held until this transaction's commit ends: the next event of the restaurant takes a higher seq
      -- only once this one is visible. (Ids past 2^31 fold onto the same key: extra waiting, never disorder.)
      PERFORM pg_advisory_xact_lock(hashtext('tablekit.order_events_feed'), (NEW.restaurant_id % 2147483647)::integer);
      UPDATE order_events SET feed_seq = nextval('order_events_feed_seq')
        WHERE restaurant_id = NEW.restaurant_id AND id = NEW.id;
      SELECT customer_id INTO owner FROM orders WHERE restaurant_id = NEW.restaurant_id AND id = NEW.order_id;
      PERFORM pg_notify('order_events', NEW.restaurant_id || ':' || NEW.id || ':' || NEW.order_id || ':' || coalesce(owner, 0));
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER order_events_publish AFTER INSERT ON order_events
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION order_events_publish();

    CREATE TABLE stream_tickets (
      restaurant_id bigint NOT NULL REFERENCES restaurants (id),
      -- SHA-256 of the ticket, hex: a leaked table row does not open a stream.
      ticket_hash   text NOT NULL CHECK (length(ticket_hash) = 64),
      user_sub      text NOT NULL CHECK (length(user_sub) BETWEEN 1 AND 128),
      -- Who the stream is for: staff (with their role when the ticket was issued) or one customer.
      staff_role    text CHECK (staff_role IN ('manager', 'kitchen')),
      customer_id   bigint,
      expires_at    timestamptz NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, ticket_hash),
      FOREIGN KEY (restaurant_id, customer_id) REFERENCES customers (restaurant_id, id),
      CHECK ((staff_role IS NULL) <> (customer_id IS NULL))
    );
    CREATE INDEX stream_tickets_by_expiry ON stream_tickets (expires_at);
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    DROP TABLE stream_tickets;
    DROP TRIGGER order_events_publish ON order_events;
    DROP FUNCTION order_events_publish();
    DROP INDEX order_events_feed;
    ALTER TABLE order_events DROP COLUMN feed_seq;
    DROP SEQUENCE order_events_feed_seq;
  `,
  );
}
