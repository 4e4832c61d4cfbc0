import { type DerivedKeys, decryptAtRest, encryptAtRest, sealedWith } from "../domain/secrets.js";
import type { Store } from "../store/types.js";

export interface ResealReport {
  /** Sealed under SECRET_KEY_PREVIOUS, now under SECRET_KEY. */
  resealed: number;
  /** Already sealed under SECRET_KEY. */
  current: number;
  /** Opened by neither key (sealed under some older key): left as they are, and named. */
  unreadable: string[];
}

/**
 * `anteroom reseal`, the middle step of a SECRET_KEY rotation: every secret kept encrypted in the record
 * (webhook secrets, the private halves of admission signing keys) is re-encrypted under SECRET_KEY, after
 * which SECRET_KEY_PREVIOUS is no longer needed to read any of them. Safe to run while the service runs
 * (each value is swapped only if unchanged since it was read) and to run again.
 */
export async function resealSecrets(store: Store, keys: DerivedKeys): Promise<ResealReport> {
  const report: ResealReport = { resealed: 0, current: 0, unreadable: [] };
  const reseal = async (name: string, sealed: string, swap: (to: string) => Promise<boolean>) => {
    if (sealedWith(keys.atRest, sealed)) {
      report.current += 1;
      return;
    }
    let plain: string;
    try {
      plain = decryptAtRest(keys.atRestReaders, sealed);
    } catch {
      report.unreadable.push(name);
      return;
    }
    // Changed meanwhile (rotated by an admin): the new value was sealed under SECRET_KEY already.
    if (await swap(encryptAtRest(keys.atRest, plain))) report.resealed += 1;
    else report.current += 1;
  };
  for (const app of await store.applications.sealedWebhookSecrets()) {
    await reseal(`webhook secret of application ${app.id}`, app.webhook_secret_enc, (to) =>
      store.applications.resealWebhookSecret(app.id, app.webhook_secret_enc, to),
    );
  }
  for (const key of await store.signingKeys.list()) {
    await reseal(`signing key ${key.kid}`, key.private_jwk_enc, (to) =>
      store.signingKeys.reseal(key.kid, key.private_jwk_enc, to),
    );
  }
  return report;
}
