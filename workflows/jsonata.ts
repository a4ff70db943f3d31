/**
 * JSONata on the workflow thread, for histories recorded before BOUNDED_EXPRESSIONS_PATCH (newer runs evaluate
 * conditions and approval messages in a local activity). core/template.ts is loaded on first use, with `require`,
 * so a run that never evaluates an expression here does not initialise JSONata (every workflow execution evaluates
 * the modules it loads afresh). The call is synchronous, as the import was: replays see the same order of events.
 */
import type * as Template from "../core/template.ts";

declare const require: (id: string) => unknown;

const template = () => require("../core/template.ts") as typeof Template;

export const evaluateExpression: typeof Template.evaluateExpression = (expression, context) =>
  template().evaluateExpression(expression, context);

export const renderTemplate: typeof Template.renderTemplate = (value, context) =>
  template().renderTemplate(value, context);
