CREATE TABLE "ledger_payments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"amount_cents" integer NOT NULL,
	"paid_on" text NOT NULL,
	"method" text,
	"reference" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_tenants" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"phone" text NOT NULL,
	"timezone" text NOT NULL,
	"amount_owed_cents" integer NOT NULL,
	"tenant_portion_cents" integer,
	"due_date" text,
	"property_name" text,
	"unit" text,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notices" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"body" text NOT NULL,
	"priority" text NOT NULL,
	"metadata" jsonb NOT NULL,
	"recipient" text,
	"created_at" timestamp with time zone NOT NULL,
	"read_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sms_contacts" (
	"phone" text PRIMARY KEY NOT NULL,
	"opted_out" boolean DEFAULT false NOT NULL,
	"reason" text,
	"changed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sms_messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"direction" text NOT NULL,
	"provider" text NOT NULL,
	"provider_message_id" text,
	"from_number" text NOT NULL,
	"to_number" text NOT NULL,
	"body" text NOT NULL,
	"segments" integer NOT NULL,
	"encoding" text NOT NULL,
	"state" text NOT NULL,
	"error_code" text,
	"idempotency_key" text,
	"conversation_id" text,
	"workflow_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "source_checkpoints" (
	"name" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "ledger_payments_tenant_idx" ON "ledger_payments" USING btree ("tenant_id","paid_on");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_payments_reference_idx" ON "ledger_payments" USING btree ("tenant_id","reference") WHERE "ledger_payments"."reference" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_tenants_phone_idx" ON "ledger_tenants" USING btree ("phone");--> statement-breakpoint
CREATE UNIQUE INDEX "notices_idempotency_idx" ON "notices" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "notices_created_idx" ON "notices" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sms_messages_provider_id_idx" ON "sms_messages" USING btree ("provider","provider_message_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sms_messages_idempotency_idx" ON "sms_messages" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "sms_messages_conversation_idx" ON "sms_messages" USING btree ("conversation_id","id");--> statement-breakpoint
CREATE INDEX "sms_messages_numbers_idx" ON "sms_messages" USING btree ("from_number","to_number","id");