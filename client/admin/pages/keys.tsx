import { useState } from "preact/hooks";
import { api, get } from "../api.js";
import { t } from "../i18n.js";
import type { Jwks, Me } from "../types.js";
import { ErrorBox, Loading, useAction, useLoad } from "../ui.js";

/** The published admission-token keys (the public JWKS) and, for admins, rotating the signing key. */
export function KeysPage({ me }: { me: Me }) {
  const jwks = useLoad(() => get<Jwks>("/.well-known/jwks.json"), "jwks");
  const rotate = useAction();
  const [revoke, setRevoke] = useState(false);
  const [rotated, setRotated] = useState<string | undefined>(undefined);
  const start = () => {
    if (!window.confirm(revoke ? t("keys.revoke_confirm") : t("keys.rotate_confirm"))) return;
    setRotated(undefined);
    void rotate.run(async () => {
      const answer = await api<{ kid: string }>(
        "POST",
        "/signing-keys/rotate",
        revoke ? { revoke_previous: true } : {},
      );
      setRotated(answer.kid);
      setRevoke(false);
      jwks.reload();
    });
  };
  return (
    <section>
      <h1>{t("keys.title")}</h1>
      <p class="muted">{t("keys.intro")}</p>
      {jwks.data === undefined ? (
        <Loading loaded={jwks} />
      ) : (
        <div class="table-wrap">
          <table>
            <caption>{t("keys.published")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("keys.kid")}</th>
                <th scope="col">{t("keys.alg")}</th>
              </tr>
            </thead>
            <tbody>
              {jwks.data.keys.map((key, index) => (
                <tr key={key.kid ?? index} data-kid={key.kid}>
                  <td class="mono breakable" dir="ltr">
                    {key.kid ?? "—"}
                  </td>
                  <td class="mono">{key.alg ?? key.kty ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>{t("keys.rotate")}</h2>
      {me.role !== "admin" ? (
        <p class="notice">{t("keys.admin_only")}</p>
      ) : (
        <div class="stack panel">
          <label class="check">
            <input
              type="checkbox"
              checked={revoke}
              onChange={(event) => setRevoke(event.currentTarget.checked)}
            />
            {t("keys.revoke_previous")}
          </label>
          <ErrorBox error={rotate.error} />
          {rotated === undefined ? null : (
            <p class="notice" role="status">
              {t("keys.rotated", { kid: rotated })}
            </p>
          )}
          <div class="actions">
            <button
              type="button"
              class={revoke ? "danger" : "primary"}
              disabled={rotate.busy}
              onClick={start}
            >
              {t("keys.rotate")}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
