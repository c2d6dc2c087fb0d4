PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_kine` (
	`id` integer PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created` integer DEFAULT false NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`create_revision` integer DEFAULT 0 NOT NULL,
	`prev_revision` integer DEFAULT 0 NOT NULL,
	`expires_at` integer,
	`value` text
);
--> statement-breakpoint
INSERT INTO `__new_kine`("id", "name", "created", "deleted", "create_revision", "prev_revision", "expires_at", "value") SELECT "id", "name", "created", "deleted", "create_revision", "prev_revision", "expires_at", "value" FROM `kine`;--> statement-breakpoint
DROP TABLE `kine`;--> statement-breakpoint
ALTER TABLE `__new_kine` RENAME TO `kine`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `kine_name_prev_revision_uindex` ON `kine` (`name`,`prev_revision`);--> statement-breakpoint
CREATE INDEX `kine_expires_at_index` ON `kine` (`expires_at`) WHERE "kine"."expires_at" IS NOT NULL;