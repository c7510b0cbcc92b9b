CREATE INDEX "workflows_kind_created_idx" ON "workflows" USING btree ("kind","created_at");--> statement-breakpoint
CREATE INDEX "sms_messages_direction_created_idx" ON "sms_messages" USING btree ("direction","created_at");--> statement-breakpoint
CREATE INDEX "collections_approvals_created_idx" ON "collections_approvals" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "collections_escalations_created_idx" ON "collections_escalations" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "collections_payment_plans_created_idx" ON "collections_payment_plans" USING btree ("created_at");