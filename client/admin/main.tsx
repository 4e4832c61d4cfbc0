import { render } from "preact";
import { App } from "./app.js";
import { setLanguage } from "./i18n.js";

/** The operator's console (GET /admin): the page's language is the server's pick (?lang=, Accept-Language). */
setLanguage(document.documentElement.lang);
const root = document.getElementById("app");
if (root !== null) {
  root.textContent = "";
  render(<App />, root);
}
