import type { Access } from "../../domain/access.js";
import type { AlertState } from "../../domain/alerts.js";
import type { AlertRow, Page, PageRequest, Store } from "../../store/types.js";

/**
 * The alert history a caller may see: any role, narrowed to their tenant. Operators and viewers see the
 * alerts of the applications granted to them and none of the system-wide ones (no application); admins see all.
 */
export async function listAlerts(
  access: Access,
  store: Pick<Store, "alerts">,
  filter: { applicationId?: string; state?: AlertState },
  page: PageRequest,
): Promise<Page<AlertRow>> {
  if (filter.applicationId !== undefined && !access.canSee(filter.applicationId))
    return { items: [], total: 0 };
  return store.alerts.list({ visible: access.visibility, ...filter }, page);
}
