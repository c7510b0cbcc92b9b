CREATE TABLE "collections_approvals" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" uuid NOT NULL,
	"conversation_id" text NOT NULL,
	"tenant_id" text,
	"phone" text NOT NULL,
	"tenant_text" text NOT NULL,
	"draft" text NOT NULL,
	"confidence" double precision NOT NULL,
	"intent" text NOT NULL,
	"flags" jsonb NOT NULL,
	"rule" text NOT NULL,
	"status" text NOT NULL,
	"obsolete_reason" text,
	"sent_text" text,
	"decided_by" text,
	"notes" text,
	"created_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "collections_conversations" (
	"conversation_id" text PRIMARY KEY NOT NULL,
	"tenant_id" text,
	"phone" text NOT NULL,
	"timezone" text,
	"state" text NOT NULL,
	"latest_workflow_id" uuid,
	"last_outbound_at" timestamp with time zone,
	"last_inbound_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "collections_escalations" (
	"id" text PRIMARY KEY NOT NULL,
	"conversation_id" text NOT NULL,
	"workflow_id" uuid,
	"tenant_id" text,
	"type" text NOT NULL,
	"reason" text NOT NULL,
	"severity" text NOT NULL,
	"auto_detected" boolean NOT NULL,
	"escalated_by" text NOT NULL,
	"assigned_to" text NOT NULL,
	"status" text NOT NULL,
	"metadata" jsonb NOT NULL,
	"expected_resolution_at" timestamp with time zone NOT NULL,
	"resolved_by" text,
	"resolution" text,
	"created_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "collections_payment_plans" (
	"id" text PRIMARY KEY NOT NULL,
	"conversation_id" text NOT NULL,
	"tenant_id" text,
	"workflow_id" uuid,
	"weekly_amount_cents" integer NOT NULL,
	"weeks" integer NOT NULL,
	"start_date" text NOT NULL,
	"status" text NOT NULL,
	"amount_owed_cents" integer NOT NULL,
	"validation" jsonb NOT NULL,
	"counter_offer" jsonb,
	"message_content" text,
	"ai_response" text,
	"confidence" double precision,
	"source_key" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "collections_plan_payments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"plan_id" text NOT NULL,
	"amount_cents" integer NOT NULL,
	"paid_on" text NOT NULL,
	"method" text,
	"reference" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "collections_approvals_status_idx" ON "collections_approvals" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "collections_approvals_conversation_idx" ON "collections_approvals" USING btree ("conversation_id");--> statement-breakpoint
CREATE INDEX "collections_conversations_phone_idx" ON "collections_conversations" USING btree ("phone");--> statement-breakpoint
CREATE INDEX "collections_escalations_status_idx" ON "collections_escalations" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "collections_escalations_conversation_idx" ON "collections_escalations" USING btree ("conversation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "collections_escalations_dedupe_idx" ON "collections_escalations" USING btree ("conversation_id","type",(metadata->>'dedupe_key')) WHERE metadata ? 'dedupe_key';--> statement-breakpoint
CREATE INDEX "collections_payment_plans_conversation_idx" ON "collections_payment_plans" USING btree ("conversation_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "collections_payment_plans_source_idx" ON "collections_payment_plans" USING btree ("source_key");--> statement-breakpoint
CREATE INDEX "collections_plan_payments_plan_idx" ON "collections_plan_payments" USING btree ("plan_id","paid_on");--> statement-breakpoint
CREATE UNIQUE INDEX "collections_plan_payments_reference_idx" ON "collections_plan_payments" USING btree ("plan_id","reference") WHERE "collections_plan_payments"."reference" is not null;