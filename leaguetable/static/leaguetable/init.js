// Starts the NHS.UK frontend's components (header menu, skip link, details...).
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

initAll();
