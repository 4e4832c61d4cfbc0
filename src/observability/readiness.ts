/** A dependency `/readyz` asks about: it throws when the dependency cannot be reached. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}
