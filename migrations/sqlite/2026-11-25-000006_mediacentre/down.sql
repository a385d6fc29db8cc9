DROP TABLE ent_widget_origins;
