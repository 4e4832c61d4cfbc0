import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { ErrorBody } from "../schemas.js";

/** OpenAPI 3 document at /docs/json and /openapi.json (where FastAPI serves it), and a page at /docs. */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Anteroom",
        description:
          "Virtual waiting room: queue visitors, show exact positions, release them at a controlled rate.",
        version,
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
          apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
          // The seed's header; proxies such as nginx drop underscored headers by default, hence X-API-Key.
          appApiKey: {
            type: "apiKey",
            in: "header",
            name: "app_api_key",
            description: "the same API key; prefer X-API-Key behind proxies that drop underscored headers",
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
