import type { Migration, MigrationProvider } from "kysely";
import type { Dialect } from "../types.js";
import { initial } from "./001-initial.js";
import { waitingRoom } from "./002-waiting-room.js";
import { releaseWindow } from "./003-release-window.js";
import { joinLimit } from "./004-join-limit.js";
import { callbackClaim } from "./005-callback-claim.js";
import { visitorSide } from "./006-visitor-side.js";
import { workerHeartbeats } from "./007-worker-heartbeats.js";
import { alerts } from "./008-alerts.js";
import { analytics } from "./009-analytics.js";

/** Column types that differ by dialect; everything else in a migration is portable SQL. */
export interface ColumnTypes {
  uuid: "uuid" | "text";
  instant: "timestamptz" | "text";
  bigint: "bigint" | "integer";
  double: "double precision" | "real";
}

function columnTypes(dialect: Dialect): ColumnTypes {
  return dialect === "postgres"
    ? { uuid: "uuid", instant: "timestamptz", bigint: "bigint", double: "double precision" }
    : { uuid: "text", instant: "text", bigint: "integer", double: "real" };
}

export type MigrationFactory = (types: ColumnTypes, dialect: Dialect) => Migration;

/** Ordered, versioned migrations. Append only: a released migration is never edited. */
const MIGRATIONS: Record<string, MigrationFactory> = {
  "001-initial": initial,
  "002-waiting-room": waitingRoom,
  "003-release-window": releaseWindow,
  "004-join-limit": joinLimit,
  "005-callback-claim": callbackClaim,
  "006-visitor-side": visitorSide,
  "007-worker-heartbeats": workerHeartbeats,
  "008-alerts": alerts,
  "009-analytics": analytics,
};

export function migrationProvider(dialect: Dialect): MigrationProvider {
  const types = columnTypes(dialect);
  return {
    async getMigrations() {
      return Object.fromEntries(
        Object.entries(MIGRATIONS).map(([name, make]) => [name, make(types, dialect)]),
      );
    },
  };
}
